"""`storyloom cast list|add|show|rm` in-process (the parser and the command module, as a user calls them)."""
import json

import numpy as np
from PIL import Image

from api.cli.main import main


def test_cast_add_list_show_rm(env, tmp_path, capsys):
    picture = tmp_path / "mara.jpg"
    Image.fromarray(np.full((40, 30, 3), 120, dtype=np.uint8), "RGB").save(picture)
    assert main(["cast", "add", "Mara", "--look", "an otter in a red scarf", "--voice", "heart",
                 "--image", str(picture)]) == 0
    mara = capsys.readouterr().out.strip()
    assert main(["cast", "add", "Ink", "--kind", "style", "--look", "ink and watercolour"]) == 0
    ink = capsys.readouterr().out.strip()
    assert main(["cast", "list", "--json"]) == 0
    assert [(e["id"], e["name"]) for e in json.loads(capsys.readouterr().out)] == [(mara, "Mara"), (ink, "Ink")]
    assert main(["cast", "list", "--kind", "style"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{ink}  style      Ink: ink and watercolour (no picture)"]
    assert main(["cast", "show", mara]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["voice"] == "heart" and Image.open(shown["reference_path"]).size == (30, 40)
    assert main(["cast", "rm", mara]) == 0 and main(["cast", "show", mara]) == 2
    assert "no entity with id" in capsys.readouterr().err
    assert main(["cast", "list", "--key-id", "0" * 32, "--json"]) == 0  # another bank: empty
    assert json.loads(capsys.readouterr().out) == []


def test_cast_add_refuses_bad_input_in_one_line(env, tmp_path, capsys):
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    for argv, says in ((["cast", "add", ""], "the name is empty"), (["cast", "add", "x" * 81], "limit is 80"),
                       (["cast", "add", "Pip", "--image", str(text)], "not an image"),
                       (["cast", "add", "Pip", "--image", str(empty)], "empty (0 bytes)"),
                       (["cast", "add", "Pip", "--image", str(tmp_path / "absent.png")], "is not a file"),
                       (["cast", "add", "Pip", "--voice", "robot"], "voice 'robot'")):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert says in err and err.count("\n") == 1, err
    assert main(["cast", "list", "--json"]) == 0 and json.loads(capsys.readouterr().out) == []
