"""The cast bank over HTTP on SQLite and PostgreSQL (issue 15): CRUD, the 1-80 character name, bad
reference pictures (one line, nothing stored), and another key that never sees your entities."""
import base64
import io
import zlib

import numpy as np
from PIL import Image


def _png(size=(64, 48)) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((size[1], size[0], 3), 90, dtype=np.uint8), "RGB").save(buf, format="PNG")
    return buf.getvalue()


def _bomb() -> bytes:
    """A valid PNG header claiming 30000 x 30000 pixels (900 Mpx) in a few hundred bytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
    header = (30000).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_bank_crud_and_reference_picture(api):
    with api.client(api.key()) as c:
        made = c.post("/v1/entities", json={"name": "Mara", "look": "an otter in a red scarf", "voice": "heart",
                                            "reference_image_base64": b64(_png())})
        assert made.status_code == 201, made.text
        mara = made.json()
        assert mara["kind"] == "character" and mara["reference_sha256"] and mara["voice"] == "heart"
        style = c.post("/v1/entities", json={"kind": "style", "name": "Ink", "look": "ink and watercolour"}).json()
        assert c.post("/v1/entities", json={"kind": "place", "name": "The Harbour", "look": "a grey harbour"}
                      ).status_code == 201
        assert [e["name"] for e in c.get("/v1/entities").json()["entities"]] == ["Mara", "Ink", "The Harbour"]
        assert [e["id"] for e in c.get("/v1/entities", params={"kind": "style"}).json()["entities"]] == [style["id"]]
        picture = c.get(f"/v1/entities/{mara['id']}/reference")
        assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
        assert Image.open(io.BytesIO(picture.content)).size == (64, 48)
        changed = c.patch(f"/v1/entities/{mara['id']}", json={"look": "an otter in a blue scarf"}).json()
        assert changed["look"] == "an otter in a blue scarf" and changed["name"] == "Mara"
        assert c.get(f"/v1/entities/{mara['id']}").json()["look"] == "an otter in a blue scarf"
        assert c.delete(f"/v1/entities/{mara['id']}").status_code == 204
        assert c.get(f"/v1/entities/{mara['id']}").status_code == 404
        assert c.delete(f"/v1/entities/{mara['id']}").status_code == 404


BAD = [
    ({"name": ""}, "name"), ({"name": "   "}, "the name is empty"), ({"name": "x" * 81}, "name"),
    ({"name": "Pip", "kind": "monster"}, "kind"), ({"name": "Pip", "voice": "robot"}, "voice 'robot'"),
    ({"name": "Pip", "reference_image_base64": "not base64!"}, "not valid base64"),
    ({"name": "Pip", "reference_image_base64": ""}, "empty (0 bytes)"),
    ({"name": "Pip", "reference_image_base64": b64(b"just some text, not a picture")}, "not an image"),
    ({"name": "Pip", "reference_image_base64": b64(_png()[:60])}, "cannot read"),
    ({"name": "Pip", "reference_image_base64": b64(_bomb())}, "decompression bomb"),
]


def test_bad_entities_are_one_line_422_and_nothing_is_stored(api):
    with api.client(api.key()) as c:
        for body, says in BAD:
            answer = c.post("/v1/entities", json=body)
            assert answer.status_code == 422, (body, answer.text)
            message = answer.json()["error"]["message"]
            assert says in message and "\n" not in message, (body, message)
        mara = c.post("/v1/entities", json={"name": "Mara"}).json()
        changes = [{"name": ""}, {"name": "   "}, {"name": "x" * 81},
                   *({k: v for k, v in body.items() if k != "name"} for body, _ in BAD[4:])]
        for change in changes:  # a change is checked the same way
            answer = c.patch(f"/v1/entities/{mara['id']}", json=change)
            assert answer.status_code == 422 and "\n" not in answer.json()["error"]["message"], (change, answer.text)
        kept = c.get("/v1/entities").json()["entities"]
        assert [(e["name"], e["reference_sha256"]) for e in kept] == [("Mara", None)]
        answer = c.post("/v1/entities", json={"name": "Pip", "reference_image_base64": "A" * 1_100_000})
        assert answer.status_code == 413
        assert len(c.get("/v1/entities").json()["entities"]) == 1
    assert not [p for p in api.rt.store.root.rglob("*") if p.is_file()]  # this test's own, fresh store


def test_another_key_never_sees_or_changes_your_entities(api):
    mine, theirs = api.client(api.key("me")), api.client(api.key("them"))
    with mine, theirs:
        mara = mine.post("/v1/entities", json={"name": "Mara", "look": "an otter"}).json()
        other = theirs.post("/v1/entities", json={"name": "Mara", "look": "a tall woman"}).json()
        assert other["id"] != mara["id"]
        assert [e["look"] for e in theirs.get("/v1/entities").json()["entities"]] == ["a tall woman"]
        for call in (theirs.get, theirs.delete):
            assert call(f"/v1/entities/{mara['id']}").status_code == 404
        assert theirs.get(f"/v1/entities/{mara['id']}/reference").status_code == 404
        assert theirs.patch(f"/v1/entities/{mara['id']}", json={"look": "changed"}).status_code == 404
        assert mine.get(f"/v1/entities/{mara['id']}").json()["look"] == "an otter"
