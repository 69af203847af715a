"""Unit tests of the layer, in-process (moto's mock_aws, boto3), no server:
    .venv/bin/python -m unittest discover -s infra/emulator -v
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="ap-southeast-2")

import boto3  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from moto import mock_aws  # noqa: E402
from moto.dynamodb.models import dynamodb_backends  # noqa: E402

import server  # noqa: E402
import transact  # noqa: E402

transact.install()


def put(table, pk, sk, **attrs):
    item = {"PK": {"S": pk}, "SK": {"S": sk}}
    item.update({k: {"N": str(v)} for k, v in attrs.items()})
    return {"Put": {"TableName": table, "Item": item}}


@mock_aws
class TransactWriteItemsUndoLog(unittest.TestCase):
    def setUp(self):
        self.db = boto3.client("dynamodb")
        for name in ("t", "other"):
            self.db.create_table(
                TableName=name,
                KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
                AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}, {"AttributeName": "SK", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        self.db.create_table(
            TableName="h",
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        self.db.put_item(TableName="t", Item={"PK": {"S": "CASE#1"}, "SK": {"S": "META"}, "version": {"N": "3"}})
        self.db.put_item(TableName="t", Item={"PK": {"S": "CASE#1"}, "SK": {"S": "NOTE#a"}, "n": {"N": "1"}})
        self.db.put_item(TableName="t", Item={"PK": {"S": "CASE#2"}, "SK": {"S": "META"}, "version": {"N": "7"}})
        self.db.put_item(TableName="other", Item={"PK": {"S": "X"}, "SK": {"S": "Y"}, "n": {"N": "1"}})
        self.db.put_item(TableName="h", Item={"PK": {"S": "K"}, "n": {"N": "1"}})

    def everything(self):
        return {name: sorted(map(str, self.db.scan(TableName=name)["Items"])) for name in ("t", "other", "h")}

    def tables(self):
        return dict(dynamodb_backends["123456789012"]["ap-southeast-2"].tables)

    def test_a_refused_transaction_writes_nothing_and_copies_no_table(self):
        before, tables_before = self.everything(), self.tables()
        items = [
            put("t", "CASE#1", "NOTE#b", n=2),  # new item in an existing partition
            put("t", "CASE#9", "META", version=1),  # new partition
            {"Update": {"TableName": "t", "Key": {"PK": {"S": "CASE#2"}, "SK": {"S": "META"}},
                        "UpdateExpression": "SET version = version + :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
            {"Delete": {"TableName": "t", "Key": {"PK": {"S": "CASE#1"}, "SK": {"S": "NOTE#a"}}}},
            {"Put": {"TableName": "h", "Item": {"PK": {"S": "K"}, "n": {"N": "99"}}}},
            {"Put": {"TableName": "h", "Item": {"PK": {"S": "NEW"}, "n": {"N": "1"}}}},
            # the one failing condition, last, after every other operation has been applied
            {"Put": {"TableName": "t", "Item": {"PK": {"S": "CASE#1"}, "SK": {"S": "META"}, "version": {"N": "4"}},
                     "ConditionExpression": "version = :v", "ExpressionAttributeValues": {":v": {"N": "2"}}}},
        ]
        with self.assertRaises(ClientError) as e:
            self.db.transact_write_items(TransactItems=items)
        self.assertEqual(e.exception.response["Error"]["Code"], "TransactionCanceledException")
        self.assertEqual(self.everything(), before)
        # moto's own rollback swaps in whole-table deep copies; with the undo log the tables stay the same objects
        after = self.tables()
        self.assertEqual(after.keys(), tables_before.keys())
        for name in after:
            self.assertIs(after[name], tables_before[name], f"table {name} was replaced by a copy")
        # and the refused transaction left no empty partition behind
        self.assertNotIn("CASE#9", [str(h.value) for h in after["t"].items.keys() if after["t"].items[h]])

    def test_an_accepted_transaction_applies_every_operation(self):
        self.db.transact_write_items(TransactItems=[
            put("t", "CASE#1", "NOTE#b", n=2),
            {"Put": {"TableName": "t", "Item": {"PK": {"S": "CASE#1"}, "SK": {"S": "META"}, "version": {"N": "4"}},
                     "ConditionExpression": "version = :v", "ExpressionAttributeValues": {":v": {"N": "3"}}}},
            {"Delete": {"TableName": "h", "Key": {"PK": {"S": "K"}}}},
        ])
        meta = self.db.get_item(TableName="t", Key={"PK": {"S": "CASE#1"}, "SK": {"S": "META"}})["Item"]
        self.assertEqual(meta["version"], {"N": "4"})
        self.assertIn("Item", self.db.get_item(TableName="t", Key={"PK": {"S": "CASE#1"}, "SK": {"S": "NOTE#b"}}))
        self.assertNotIn("Item", self.db.get_item(TableName="h", Key={"PK": {"S": "K"}}))

    def test_an_invalid_transaction_is_undone_too(self):
        before = self.everything()
        # the same item twice: moto raises a validation error after applying the first put
        with self.assertRaises(ClientError):
            self.db.transact_write_items(TransactItems=[put("t", "CASE#5", "META", version=1), put("t", "CASE#5", "META", version=2)])
        self.assertEqual(self.everything(), before)


class VersionCheck(unittest.TestCase):
    def test_refuses_another_moto_version(self):
        real = server.version
        server.version = lambda _name: "5.2.6"
        try:
            with self.assertRaises(SystemExit) as e:
                server.check_moto_version()
            self.assertIn("written for moto 5.2.5", str(e.exception.code))
        finally:
            server.version = real
        self.assertEqual(server.check_moto_version(), "5.2.5")


class Locks(unittest.TestCase):
    def test_which_lock_a_request_takes(self):
        self.assertEqual(server.locks_for({"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.TransactWriteItems"}), [server.DYNAMODB_LOCK])
        self.assertEqual(server.locks_for({"HTTP_X_AMZ_TARGET": "AmazonSQS.SendMessage"}), [server.OTHER_LOCK])
        self.assertEqual(server.locks_for({"HTTP_X_AMZ_TARGET": "AmazonSQS.ReceiveMessage"}), [])
        self.assertEqual(server.locks_for({"PATH_INFO": "/v2/email/outbound-emails"}), [server.OTHER_LOCK])
        self.assertEqual(server.locks_for({"PATH_INFO": "/moto-api/data.json"}), [server.DYNAMODB_LOCK, server.OTHER_LOCK])


if __name__ == "__main__":
    unittest.main()
