"""The capability check, made before any plan: can Storyloom's tools do what the request asks?

The request is cut into clauses and each clause is matched against the tables in
`agent.planning.capability_table`: a clause that asks for something no tool does ("reduce the
background noise") names a missing capability; one that asks for what a tool does ("transcribe it")
is a part that can be served; a clause that asks for neither ("I have a video file example.mp4") is
context. Quoted text is what is to be said or drawn, never an instruction, so it is not matched.
Where the rules recognise nothing at all, the sentence-embedding model (MiniLM, role `embedder`)
compares the request with every capability's `about` sentence and the nearest one decides; a request
near none of them is not guessed at (`missing` = ["a tool for this request"]).

The answer: `supported` (True, False or "partial"), `missing` (plain capability names), `doable`
(the clauses that can be served: what a partial plan covers), the files the request names, and one
honest sentence with what Storyloom can do instead.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from agent.planning.capability_table import CAN, CANNOT, Capability

Embed = Callable[[Sequence[str]], Any]  # texts -> unit vectors (rows), e.g. MiniLM's encode

UNRECOGNISED = "a tool for this request"
NEAR_ENOUGH = 0.3  # cosine below which an unclear request is near no capability
MEDIA_EXT = (r"wav|mp3|m4a|flac|ogg|opus|aac|mp4|mov|avi|mkv|webm|m4v|png|jpe?g|gif|webp|bmp|tiff?|heic|"
             r"pdf|docx?|txt|csv|srt|vtt|zip")
_FILE = re.compile(rf"(?<![\w/.-])([\w-]{{1,80}}\.(?:{MEDIA_EXT}))\b", re.IGNORECASE)
_OUTPUT_FILE = re.compile(r"\b(?:as|named|called|save\w*(?: it)?(?: to)?|into|export\w*(?: it)? to)\s+$", re.IGNORECASE)
_QUOTED = re.compile(r"[\"“‘]([^\"“”‘’]{1,2000})[\"”’]|(?:^|(?<=\s))'([^']{1,2000})'(?=$|[\s,.;:!?])")
_REFERS = re.compile(r"\b(?:it|its|them|that|the result|the translation|the summary|the same)\b", re.IGNORECASE)
_INSTRUCTION = re.compile(r"^(?:(?:please|then|also|and|now|finally|after that),?\s+)*(?:i want|i'd like|i need|"
                          r"can you|could you|would you|translate|add|make|put|turn|convert|download|search|send|"
                          r"post|remove|reduce|compose|play|record|upload|summari[sz]e|stabili[sz]e|crop|trim|edit|"
                          r"count|find|look|give|create|generate|write|read|say|speak|narrate|draw|caption|describe|"
                          r"transcribe|email|share)\b", re.IGNORECASE)
_SPLIT = re.compile(r"(?<=[.!?;:])\s+|\s*,\s*(?:and\s+|then\s+|but\s+)*|\s+(?:and then|then|and also|and|but|also|"
                    r"plus|after that|afterwards|finally)\s+", re.IGNORECASE)


@dataclass
class CapabilityCheck:
    """What the check found (see the module docstring)."""

    supported: bool | str  # True | False | "partial"
    missing: list[str] = field(default_factory=list)
    can: list[str] = field(default_factory=list)
    doable: str = ""
    files: list[str] = field(default_factory=list)  # files the request names as given
    absent_files: list[str] = field(default_factory=list)  # of those, the ones not found
    source: str = "rules"  # rules | embedding
    reason: str = ""

    @property
    def declined(self) -> bool:
        """Whether a run of this request must end `declined` (nothing to do, or a named file is absent)."""
        return self.supported is False or bool(self.absent_files)

    def to_dict(self) -> dict[str, Any]:
        return {"supported": self.supported, "missing": self.missing, "can": self.can, "doable": self.doable,
                "files": self.files, "absent_files": self.absent_files, "source": self.source,
                "reason": self.reason}


def check_capabilities(request: str, *, embed: Embed | None = None,
                       known_files: Mapping[str, str] | None = None) -> CapabilityCheck:
    """Check `request` (already checked for size) against the tools; `embed` settles requests the rules
    cannot read; `known_files` (file name -> asset id) are the files the session holds."""
    text, files = _masked(request)
    missing: list[Capability] = []
    served: list[tuple[Capability, str]] = []
    after_missing = in_story = False  # "translate it and read it aloud": the reading needs the translation
    for clause in clause_texts(text):
        # What a story tells is its content ("a story about a keeper who counts the stars and sings"),
        # up to the next instruction ("then translate it").
        in_story = bool(CAN[0].pattern.search(clause)) or (in_story and not _INSTRUCTION.match(clause))
        bad = [] if in_story else [c for c in CANNOT if c.pattern.search(clause)]
        missing += [c for c in bad if c not in missing]
        good = [c for c in CAN if c.pattern.search(clause)] if not bad else []
        if good and not (after_missing and _REFERS.search(clause)):
            served += [(c, clause) for c in good]
        after_missing = bool(bad) or (after_missing and not good)
    source = "rules"
    if not missing and not served:
        source = "embedding" if embed is not None else "rules"
        nearest = nearest_capability(text, embed) if embed is not None else None
        if nearest is None:
            return _finish(CapabilityCheck(False, [UNRECOGNISED], source=source), files, known_files)
        if nearest in CANNOT:
            missing.append(nearest)
        else:
            served.append((nearest, text))
    can = list(dict.fromkeys(c.name for c, _ in served))
    parts = " ".join(_sentence(t) for t in dict.fromkeys(t for _, t in served))
    doable = (_unmask(parts, request) if missing else request).strip() if served else ""
    supported: bool | str = (not missing) or ("partial" if served else False)
    result = CapabilityCheck(supported, [c.name for c in missing], can, doable, source=source)
    return _finish(result, files, known_files)


def nearest_capability(text: str, embed: Embed) -> Capability | None:
    """The capability with a sentence nearest the text in MiniLM space (None: near none). Stories are
    not offered: a story is made only for a request that asks for one."""
    table = [c for c in (*CAN, *CANNOT) if c.name != "stories"]
    owners = [c for c in table for _ in c.sentences()]
    vectors = embed([text, *(s for c in table for s in c.sentences())])
    sims = [float(sum(a * b for a, b in zip(vectors[0], row, strict=True))) for row in vectors[1:]]
    best = max(range(len(owners)), key=lambda i: sims[i])
    return owners[best] if sims[best] >= NEAR_ENOUGH else None


def instructions(request: str) -> str:
    """Only the clauses that ask for something a tool does, file names as "the file" ("I have a file
    a.wav with a speech. Transcribe it." -> "Transcribe it.")."""
    text, _ = _masked(request)
    kept = [c for c in clause_texts(text) if any(cap.pattern.search(c) for cap in CAN)]
    quotes = iter(m.group(0) for m in _QUOTED.finditer(request))
    said = re.sub(r"\bQUOTED\b", lambda m: next(quotes, ""), " ".join(_sentence(c) for c in kept))
    return " ".join(re.sub(r"\bFILE\b", "the file", said).split())


def clause_texts(text: str) -> list[str]:
    return [part.strip() for part in _SPLIT.split(text) if part and part.strip()]


def named_files(request: str) -> list[str]:
    """File names the request gives ("my recording example.wav"), not ones it asks to write ("save as a.png")."""
    names = []
    for match in _FILE.finditer(request):
        if not _OUTPUT_FILE.search(request[max(0, match.start() - 30):match.start()]):
            names.append(match.group(1))
    return list(dict.fromkeys(names))


def _masked(request: str) -> tuple[str, list[str]]:
    """The request with quotations and file names blanked out (they are data, not instructions)."""
    files = named_files(request)
    text = _QUOTED.sub(" QUOTED ", request)
    return _FILE.sub(" FILE ", text), files


def _unmask(doable: str, request: str) -> str:
    """Put the request's quotations and file names back into the doable part, in order."""
    quotes = iter(m.group(0) for m in _QUOTED.finditer(request))
    doable = re.sub(r"\bQUOTED\b", lambda m: next(quotes, ""), doable)
    files = iter(m.group(1) for m in _FILE.finditer(_QUOTED.sub(" ", request)))
    return " ".join(re.sub(r"\bFILE\b", lambda m: next(files, "the file"), doable).split())


def _sentence(clause: str) -> str:
    return clause.rstrip(" .!?;:,") + "."


def _finish(result: CapabilityCheck, files: list[str], known: Mapping[str, str] | None) -> CapabilityCheck:
    known_lower = {name.lower() for name in (known or {})}
    result.files = files
    result.absent_files = [f for f in files if f.lower() not in known_lower]
    result.reason = honest_sentence(result)
    return result


def honest_sentence(result: CapabilityCheck) -> str:
    """What cannot be done, what will be, and what Storyloom can do instead, in plain words."""
    parts = []
    if result.missing == [UNRECOGNISED]:
        parts.append("I couldn't match this request to any of my tools. I can draw pictures, make short clips, "
                     "describe pictures and videos, read text aloud, transcribe speech and tell illustrated stories.")
    elif result.missing:
        cannot = [c for c in CANNOT if c.name in result.missing]
        parts.append(f"Storyloom has no tool for {_join_or(result.missing)}, so I can't do "
                     f"{'that part' if result.supported == 'partial' else 'this'}.")
        if result.supported == "partial":
            parts.append(f"I'll do the part I can ({_join(result.can)}) and leave out the rest.")
        else:
            offers = list(dict.fromkeys(o for c in cannot for o in c.instead.split(", ") if o))
            parts.append(f"Instead I can {_join_or(offers[:4])}.")
    if result.absent_files:
        parts.append(f"I don't have {_join(result.absent_files)}: no file of that name has been sent to this "
                     "session. Send it with `storyloom narrate FILE` or POST /v1/narrations/upload, and I'll describe "
                     "and transcribe it.")
    return " ".join(parts)


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _join_or(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def model_embed(models: Any) -> Embed:
    """An `Embed` over the model manager's sentence-embedding model, loaded only when first asked."""
    def embed(texts: Sequence[str]) -> Any:
        with models.use("embedder") as embedder:
            return embedder.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True)
    return embed
