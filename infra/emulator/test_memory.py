"""Unit tests of memory.py, in-process (moto's mock_aws, boto3), no server."""

import gc
import os
import sys
import unittest
import weakref

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="ap-southeast-2")

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402
from moto.dynamodb.models import dynamodb_backends  # noqa: E402
from moto.dynamodb.models.dynamo_type import Item  # noqa: E402
from moto.ses.models import Message as SesMessage  # noqa: E402

import memory  # noqa: E402

memory.install()


@mock_aws
class ReplacedItemsAreFreed(unittest.TestCase):
    def test_a_replaced_item_is_freed_and_nothing_is_tracked(self):
        db = boto3.client("dynamodb")
        db.create_table(TableName="t", KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
        db.put_item(TableName="t", Item={"PK": {"S": "a"}, "v": {"N": "0"}})
        table = dynamodb_backends["123456789012"]["ap-southeast-2"].tables["t"]
        first = weakref.ref(next(iter(table.items.values())))
        for v in range(1, 50):
            db.put_item(TableName="t", Item={"PK": {"S": "a"}, "v": {"N": str(v)}})
            db.get_item(TableName="t", Key={"PK": {"S": "a"}})
            db.query(TableName="t", KeyConditionExpression="PK = :a", ExpressionAttributeValues={":a": {"S": "a"}})
        gc.collect()
        self.assertIsNone(first(), "moto still holds the item that was replaced")
        self.assertEqual(Item.instances_tracked, [])
        self.assertEqual(db.get_item(TableName="t", Key={"PK": {"S": "a"}})["Item"]["v"], {"N": "49"})

    def test_ses_messages_are_still_tracked(self):
        ses = boto3.client("ses")
        ses.verify_email_identity(EmailAddress="from@example.test")
        before = len(SesMessage.instances_tracked)
        ses.send_email(Source="from@example.test", Destination={"ToAddresses": ["to@example.test"]},
                       Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}})
        self.assertEqual(len(SesMessage.instances_tracked), before + 1)


if __name__ == "__main__":
    unittest.main()
