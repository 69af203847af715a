"""Unit tests of index.py, in-process (moto's mock_aws, boto3), no server: every Query is asked
twice, answered from the index and by moto's own full query (index.ENABLED = False), on random
data changed by every kind of write between the queries, and the pages must be equal.
    .venv/bin/python -m unittest discover -s infra/emulator -v
"""

import os
import random
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="ap-southeast-2")

import boto3  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from moto import mock_aws  # noqa: E402
from moto.dynamodb.models import dynamodb_backends  # noqa: E402

import index  # noqa: E402
import transact  # noqa: E402

transact.install()
index.install()

S = lambda v: {"S": v}  # noqa: E731
N = lambda v: {"N": str(v)}  # noqa: E731


def gsi(name, h, r=None, projection=None):
    schema = [{"AttributeName": h, "KeyType": "HASH"}] + ([{"AttributeName": r, "KeyType": "RANGE"}] if r else [])
    return {"IndexName": name, "KeySchema": schema, "Projection": projection or {"ProjectionType": "ALL"}}


@mock_aws
class QueriesFromTheIndex(unittest.TestCase):
    def setUp(self):
        self.rng = random.Random(int(os.environ.get("INDEX_TEST_SEED", "12")))
        self.db = boto3.client("dynamodb")
        self.db.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": t} for a, t in
                                  [("PK", "S"), ("SK", "S"), ("gpk", "S"), ("gsk", "S"), ("npk", "S"), ("nsk", "N"), ("hpk", "S")]],
            GlobalSecondaryIndexes=[
                gsi("ByG", "gpk", "gsk"),
                gsi("Num", "npk", "nsk", {"ProjectionType": "KEYS_ONLY"}),
                gsi("HashOnly", "hpk"),
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        self.db.create_table(
            TableName="h",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}, {"AttributeName": "g", "AttributeType": "S"}],
            GlobalSecondaryIndexes=[gsi("ByG", "g")],
            BillingMode="PAY_PER_REQUEST",
        )
        self.keys = set()

    # --- random data -------------------------------------------------------------------------
    def random_item(self):
        rng = self.rng
        pk, sk = f"P{rng.randrange(12)}", f"{rng.choice(['META', 'TL#', 'NOTE#', 'TL#0'])}{rng.randrange(60):03d}"
        item = {"PK": S(pk), "SK": S(sk), "n": N(rng.randrange(100)), "pad": S("x" * rng.randrange(1, 50))}
        if rng.random() < 0.8:  # sparse indexes: not every item is in every index
            item["gpk"] = S(f"G{rng.randrange(4)}")
            if rng.random() < 0.9:
                item["gsk"] = S(f"{rng.choice(['2026-01', '2026-02', '2026-10'])}-{rng.randrange(28):02d}#{rng.randrange(5)}")
        if rng.random() < 0.6:
            item["npk"], item["nsk"] = S(f"N{rng.randrange(3)}"), N(rng.choice([rng.randrange(-50, 50), rng.randrange(1000) / 8]))
        if rng.random() < 0.4:
            item["hpk"] = S(f"H{rng.randrange(3)}")
        return item

    def random_key(self):
        if self.keys and self.rng.random() < 0.8:
            pk, sk = self.rng.choice(sorted(self.keys))
            return {"PK": S(pk), "SK": S(sk)}
        item = self.random_item()
        return {"PK": item["PK"], "SK": item["SK"]}

    def write(self):
        rng, db = self.rng, self.db
        kind = rng.choice(["put", "put", "update", "delete", "batch", "transact", "refused", "hash-table"])
        if kind == "put":
            item = self.random_item()
            db.put_item(TableName="t", Item=item)
            self.keys.add((item["PK"]["S"], item["SK"]["S"]))
        elif kind == "update":  # changes index keys in place (moto updates the stored Item)
            key = self.random_key()
            expr, values = rng.choice([
                ("SET gsk = :v, gpk = :g", {":v": S(f"2026-02-{rng.randrange(28):02d}#u"), ":g": S(f"G{rng.randrange(4)}")}),
                ("REMOVE gsk", {}),
                ("SET nsk = :v, npk = :p", {":v": N(rng.randrange(-60, 60)), ":p": S("N1")}),
                ("SET n = :v", {":v": N(rng.randrange(100))}),
            ])
            kw = {"ExpressionAttributeValues": values} if values else {}
            db.update_item(TableName="t", Key=key, UpdateExpression=expr, **kw)
            self.keys.add((key["PK"]["S"], key["SK"]["S"]))
        elif kind == "delete":
            key = self.random_key()
            db.delete_item(TableName="t", Key=key)
            self.keys.discard((key["PK"]["S"], key["SK"]["S"]))
        elif kind == "batch":
            items = {}
            for _ in range(rng.randrange(1, 20)):
                item = self.random_item()
                items[(item["PK"]["S"], item["SK"]["S"])] = item
            db.batch_write_item(RequestItems={"t": [{"PutRequest": {"Item": i}} for i in items.values()]})
            self.keys.update(items)
        elif kind in ("transact", "refused"):
            a, b = self.random_item(), self.random_item()
            if (a["PK"], a["SK"]) == (b["PK"], b["SK"]):
                return
            ops = [{"Put": {"TableName": "t", "Item": a}},
                   {"Update": {"TableName": "t", "Key": {"PK": b["PK"], "SK": b["SK"]}, "UpdateExpression": "SET gpk = :g, gsk = :s",
                               "ExpressionAttributeValues": {":g": S("G0"), ":s": S("2026-02-00#t")}}}]
            if kind == "refused":  # a failing condition last: both writes undone (transact.py)
                ops.append({"ConditionCheck": {"TableName": "h", "Key": {"id": S("nope")}, "ConditionExpression": "attribute_exists(id)"}})
                with self.assertRaises(ClientError):
                    db.transact_write_items(TransactItems=ops)
            else:
                db.transact_write_items(TransactItems=ops)
                self.keys.update({(a["PK"]["S"], a["SK"]["S"]), (b["PK"]["S"], b["SK"]["S"])})
        else:
            db.put_item(TableName="h", Item={"id": S(f"i{rng.randrange(40)}"), "g": S(f"g{rng.randrange(3)}")})

    # --- random queries ----------------------------------------------------------------------
    def random_query(self):
        rng = self.rng
        target = rng.choice(["base", "base", "ByG", "ByG", "Num", "HashOnly", "h"])
        q = {"TableName": "t", "ExpressionAttributeValues": {}}
        if target == "base":
            cond = "PK = :h"
            q["ExpressionAttributeValues"][":h"] = S(f"P{rng.randrange(13)}")
            sk, vals = "SK", [S(v) for v in ("NOTE#", "TL#", "TL#0", "META", "TL#030", "NOTE#020")]
        elif target == "ByG":
            q["IndexName"], cond = "ByG", "gpk = :h"
            q["ExpressionAttributeValues"][":h"] = S(f"G{rng.randrange(5)}")
            sk, vals = "gsk", [S(v) for v in ("2026-01", "2026-02", "2026-02-14", "2026-02-14#~", "2026-10-03#2", "2026-")]
        elif target == "Num":
            q["IndexName"], cond = "Num", "npk = :h"
            q["ExpressionAttributeValues"][":h"] = S(f"N{rng.randrange(3)}")
            sk, vals = "nsk", [N(v) for v in (-20, 0, 7, 12.5, 40)]
        elif target == "HashOnly":
            q["IndexName"], cond = "HashOnly", "hpk = :h"
            q["ExpressionAttributeValues"][":h"] = S(f"H{rng.randrange(3)}")
            sk, vals = None, []
        else:
            q = {"TableName": "h", "IndexName": "ByG", "ExpressionAttributeValues": {":h": S(f"g{rng.randrange(3)}")}}
            cond, sk, vals = "g = :h", None, []
        if sk and rng.random() < 0.8:
            op = rng.choice(["=", "<", "<=", ">", ">=", "BETWEEN", "begins_with"])
            if op == "BETWEEN":
                lo, hi = sorted(rng.sample(vals, 2), key=lambda v: float(v["N"]) if "N" in v else v["S"])
                cond += f" AND {sk} BETWEEN :a AND :b"
                q["ExpressionAttributeValues"].update({":a": lo, ":b": hi})
            elif op == "begins_with":
                if "N" in vals[0]:
                    return self.random_query()
                cond += f" AND begins_with({sk}, :a)"
                q["ExpressionAttributeValues"][":a"] = rng.choice(vals)
            else:
                cond += f" AND {sk} {op} :a"
                q["ExpressionAttributeValues"][":a"] = rng.choice(vals)
        q["KeyConditionExpression"] = cond
        if rng.random() < 0.7:
            q["Limit"] = rng.choice([1, 2, 3, 5, 10, 50])
        if rng.random() < 0.4:
            q["ScanIndexForward"] = False
        if rng.random() < 0.3 and q["TableName"] == "t":
            q["FilterExpression"] = "n < :f"
            q["ExpressionAttributeValues"][":f"] = N(rng.randrange(100))
        if rng.random() < 0.2 and q["TableName"] == "t" and q.get("IndexName") != "Num":
            q["ProjectionExpression"] = "PK, SK, n"
        return q

    def pages(self, q, use_index):
        index.ENABLED = use_index
        try:
            out, start = [], None
            for _ in range(500):
                page = self.db.query(**q, **({"ExclusiveStartKey": start} if start else {}))
                page.pop("ResponseMetadata", None)
                out.append(page)
                start = page.get("LastEvaluatedKey")
                if not start:
                    return out
            self.fail(f"more than 500 pages for {q}")
        finally:
            index.ENABLED = True

    def test_every_query_answers_as_moto_does(self):
        for _ in range(250):
            self.write()
        before = dict(index.STATS)
        asked = 0
        for _round in range(8):
            for _ in range(25):
                q = self.random_query()
                self.assertEqual(self.pages(q, True), self.pages(q, False), q)
                asked += 1
            for _ in range(40):  # writes after the index is built: it must follow them
                self.write()
        # the index, not moto's fallback, answered: otherwise this test compares moto with itself
        self.assertGreaterEqual(index.STATS["indexed"] - before["indexed"], asked)
        # some pages were cut by Limit (pagination was exercised)
        self.assertTrue(any(len(self.pages(self.random_query() | {"Limit": 1}, True)) > 1 for _ in range(10)))

    def test_a_window_holds_a_page_not_the_table(self):
        items = [{"PutRequest": {"Item": {"PK": S("BIG"), "SK": S(f"TL#{i:05d}"), "gpk": S("G"), "gsk": S(f"2026-{i % 12:02d}#{i}")}}}
                 for i in range(2000)]
        for i in range(0, len(items), 25):
            self.db.batch_write_item(RequestItems={"t": items[i:i + 25]})
        table = dynamodb_backends["123456789012"]["ap-southeast-2"].tables["t"]
        from moto.dynamodb.models.dynamo_type import DynamoType

        seen = []
        real = index.window
        index.window = lambda *a, **kw: seen.append(real(*a, **kw)) or seen[-1]
        try:
            page = self.db.query(TableName="t", IndexName="ByG", KeyConditionExpression="gpk = :g AND gsk < :d",
                                 ExpressionAttributeValues={":g": S("G"), ":d": S("2026-06")}, Limit=10)
            base = self.db.query(TableName="t", KeyConditionExpression="PK = :p AND begins_with(SK, :t)",
                                 ExpressionAttributeValues={":p": S("BIG"), ":t": S("TL#0")}, Limit=10, ScanIndexForward=False)
        finally:
            index.window = real
        self.assertEqual(len(page["Items"]), 10)
        self.assertIn("LastEvaluatedKey", page)
        self.assertEqual([i["SK"]["S"] for i in base["Items"]], [f"TL#{i:05d}" for i in range(1999, 1989, -1)])
        self.assertEqual([len(w) for w in seen], [11, 11])  # Limit + 1: where moto's loop stops
        self.assertIsNotNone(index.index_of(table))
        self.assertEqual(len(index.index_of(table).indexes["ByG"].parts[index._hkey(DynamoType(S("G")))]), 2000)

    def test_a_refused_transaction_leaves_the_index_as_before(self):
        self.db.put_item(TableName="t", Item={"PK": S("C"), "SK": S("META"), "gpk": S("G9"), "gsk": S("a")})
        q = {"TableName": "t", "IndexName": "ByG", "KeyConditionExpression": "gpk = :g", "ExpressionAttributeValues": {":g": S("G9")}}
        self.assertEqual(self.db.query(**q)["Count"], 1)  # builds the index
        with self.assertRaises(ClientError):
            self.db.transact_write_items(TransactItems=[
                {"Put": {"TableName": "t", "Item": {"PK": S("C"), "SK": S("TL#1"), "gpk": S("G9"), "gsk": S("b")}}},
                {"Update": {"TableName": "t", "Key": {"PK": S("C"), "SK": S("META")}, "UpdateExpression": "SET gpk = :o",
                            "ExpressionAttributeValues": {":o": S("G8")}}},
                {"ConditionCheck": {"TableName": "h", "Key": {"id": S("nope")}, "ConditionExpression": "attribute_exists(id)"}},
            ])
        self.assertEqual([i["SK"]["S"] for i in self.db.query(**q)["Items"]], ["META"])
        q["ExpressionAttributeValues"] = {":g": S("G8")}
        self.assertEqual(self.db.query(**q)["Count"], 0)

    def test_values_of_two_types_under_one_key_fall_back_to_moto(self):
        self.db.put_item(TableName="t", Item={"PK": S("A"), "SK": S("1"), "gpk": S("G7"), "gsk": S("a")})
        try:  # moto may refuse the wrong type for an index key; if it stores it, the index steps aside
            self.db.put_item(TableName="t", Item={"PK": S("A"), "SK": S("2"), "gpk": S("G7"), "gsk": N(5)})
        except ClientError:
            self.skipTest("moto refuses an index key of the wrong type")
        q = {"TableName": "t", "IndexName": "ByG", "KeyConditionExpression": "gpk = :g", "ExpressionAttributeValues": {":g": S("G7")}}
        before = index.STATS["fallback"]
        try:
            got = self.db.query(**q)["Count"]
        except Exception as e:  # noqa: BLE001 - moto itself cannot sort them (a TypeError in process)
            got = type(e).__name__
        index.ENABLED = False
        try:
            want = self.db.query(**q)["Count"]
        except Exception as e:  # noqa: BLE001
            want = type(e).__name__
        finally:
            index.ENABLED = True
        self.assertEqual(got, want)
        self.assertEqual(index.STATS["fallback"], before + 2)


if __name__ == "__main__":
    unittest.main()
