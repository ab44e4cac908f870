"""The subjects of a story request, found by rules before any LLM is asked: who the story is about
(people, animals, things, named characters) and where it happens.

A small noun-phrase reader, no tagger: a phrase starts at a determiner, a count or a name (or at the
very start of the subject) and runs over lowercase words until a function word, a verb-like word
(one directly followed by a determiner, or an -ing word) or punctuation. A phrase after a place
preposition ("in the snow") is the setting; the phrases of the main subject ("a lighthouse keeper and
a seal") and any phrase whose last word is a creature or a person are characters; the rest are things.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from agent.recipes.fallback import subject_of
from agent.words import CARDINALS

DETERMINERS = frozenset({"a", "an", "the", "some", "my", "his", "her", "their", "our", "your", "its", "this",
                         "these", "every", "many", *CARDINALS})
PLACE_PREPOSITIONS = frozenset({"in", "on", "at", "under", "inside", "near", "by", "across", "through", "over",
                                "into", "beside", "behind", "above", "below", "within", "beneath", "around"})
# Words that end a phrase: conjunctions, relative words, prepositions, auxiliaries.
STOPS = frozenset({"and", "or", "but", "who", "whom", "whose", "which", "that", "where", "when", "while", "with",
                   "without", "to", "for", "of", "from", "about", "as", "than", "is", "are", "was", "were", "be",
                   "has", "have", "had", "can", "could", "will", "would", "must", "not", "so", "then", "after",
                   "before", "until", "because", "if", "named", "called", "like", "against", "toward", "towards",
                   "up", "down", "i", "me", "us", "you", "it", "them", "we", "they", "he", "she", "tell", "write",
                   "out", "off", "away", "back", "again", "very", "too", "also", "just", "only",
                   *PLACE_PREPOSITIONS})
ING_NOUNS = frozenset({"king", "ring", "wing", "string", "spring", "thing", "darling", "duckling", "sibling",
                       "building", "painting", "evening", "morning", "ceiling", "pudding", "dumpling", "earring",
                       "sling", "swing", "sapling", "gosling", "starling", "ending", "clearing", "kitchen"})
# Too vague to be a subject of their own.
VAGUE = frozenset({"story", "tale", "book", "way", "time", "day", "lot", "kind", "bit", "one", "thing", "things",
                   "something", "everything", "nothing", "someone", "everyone", "end", "beginning", "scene",
                   "scenes", "part", "parts", "page", "pages", "children", "child", "kids", "bedtime", "ending",
                    "year", "years", "old"})
PLACE_NOUNS = frozenset({
    "shop", "library", "garden", "forest", "wood", "woods", "sea", "ocean", "beach", "island", "castle", "village",
    "town", "city", "school", "house", "farm", "lighthouse", "moon", "hill", "mountain", "river", "lake", "pond",
    "park", "kitchen", "bakery", "station", "harbour", "harbor", "desert", "jungle", "cave", "sky", "space",
    "meadow", "field", "zoo", "market", "palace", "tower", "valley", "shore", "snow", "rain", "night",
    "street", "museum", "attic", "cellar", "swamp", "reef", "planet", "arctic", "bridge", "tree", "orchard",
    "fair", "shelf", "circus", "playground", "room", "bedroom", "boat", "ship", "road", "path", "cloud", "clouds",
    "sand", "pier", "camp", "tent", "nest", "burrow", "den", "stage", "dark", "storm", "wind", "world", "country",
})
CREATURES = frozenset({
    "cat", "kitten", "dog", "puppy", "fox", "wolf", "bear", "cub", "rabbit", "bunny", "hare", "mouse", "mice", "rat",
    "owl", "bird", "duck", "duckling", "goose", "hen", "chicken", "rooster", "seal", "whale", "dolphin", "fish",
    "shark", "octopus", "crab", "turtle", "tortoise", "frog", "toad", "snake", "lizard", "dragon", "unicorn",
    "horse", "pony", "donkey", "cow", "pig", "sheep", "lamb", "goat", "deer", "elephant", "lion", "lioness",
    "tiger", "giraffe", "zebra", "monkey", "ape", "panda", "koala", "kangaroo", "penguin", "puffin", "otter",
    "badger", "hedgehog", "squirrel", "beaver", "raccoon", "bat", "bee", "ant", "butterfly", "caterpillar",
    "snail", "spider", "ladybird", "ladybug", "robot", "giant", "troll", "fairy", "elf", "witch", "wizard",
    "ghost", "monster", "dinosaur", "crow", "raven", "parrot", "eagle", "hawk", "swan", "sparrow", "robin",
    "moose", "camel", "hippo", "rhino", "yak", "mole", "worm", "beetle", "firefly", "alien", "mermaid",
    "person", "people", "man", "woman", "boy", "girl", "baby", "friend", "friends", "king", "queen", "prince",
    "princess", "knight", "pirate", "sailor", "keeper", "baker", "farmer", "teacher", "doctor", "nurse",
    "grandmother", "grandfather", "grandma", "grandpa", "granny", "mother", "father", "mum", "mom", "dad",
    "sister", "brother", "aunt", "uncle", "astronaut", "scientist", "inventor", "painter", "fisherman",
    "librarian", "detective", "chef", "cook", "gardener", "shepherd", "miller", "tailor", "musician", "clown",
    "twins", "family", "children", "explorer", "captain", "soldier", "firefighter", "postman", "student",
})

_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*|[.,;:!?()\"]")


@dataclass
class Subject:
    """One thing the request is about: `phrase` as asked ("a lighthouse keeper"), `head` its last word."""

    phrase: str
    head: str
    role: str  # "character", "thing" or "place"
    name: str = ""  # a proper name the request gave it ("Pip")

    @property
    def label(self) -> str:
        """How the story calls it: the name, or the phrase with 'the' ("the lighthouse keeper")."""
        if self.name:
            return self.name
        words = self.phrase.split()
        body = " ".join(words[1:]) if words[0].lower() in DETERMINERS else self.phrase
        return body if words[0][:1].isupper() and words[0].lower() not in DETERMINERS else f"the {body}"

    def words(self) -> set[str]:
        """Words that count as naming it in a text: the name, the head noun and its singular."""
        found = {self.head.lower(), singular(self.head.lower())}
        return found | ({self.name.lower()} if self.name else set())


@dataclass
class Subjects:
    """A request's subjects in the order found."""

    items: list[Subject] = field(default_factory=list)

    @property
    def characters(self) -> list[Subject]:
        return [s for s in self.items if s.role == "character"]

    @property
    def place(self) -> Subject | None:
        return next((s for s in self.items if s.role == "place"), None)

    @property
    def things(self) -> list[Subject]:
        return [s for s in self.items if s.role == "thing"]


def singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def find_subjects(request: str, *, limit: int = 6) -> Subjects:
    """The request's subjects: up to three characters, one place and some things, `limit` in all."""
    tokens = _WORD.findall(subject_of(request))
    found: list[Subject] = []
    main = True  # still inside the main subject ("a keeper and a seal"), before a verb or a clause
    i = 0
    while i < len(tokens):
        end, subject = _phrase_at(tokens, i, main)
        if subject is None:
            low = tokens[i].lower()
            main = main and (low in ("and", ",") or low in DETERMINERS)
            i += 1
            continue
        if not any(s.head.lower() == subject.head.lower() for s in found):
            found.append(subject)
        i = end
    return Subjects(_trim(found, limit))


def _phrase_at(tokens: list[str], i: int, main: bool) -> tuple[int, Subject | None]:
    """The phrase starting at token i, if one does, and the index after it."""
    if i == 0 and not _name_at_start(tokens):  # a capital at the start says nothing about a name
        tokens[0] = tokens[0].lower()
    word = tokens[i]
    low = word.lower()
    starts = low in DETERMINERS or (word[:1].isupper() and low not in STOPS) or (i == 0 and low not in STOPS)
    if not starts or not word[:1].isalpha():
        return i, None
    j = i + 1 if low in DETERMINERS else i
    body: list[str] = []
    while j < len(tokens) and len(body) < 4 and _continues(tokens, j, body):
        body.append(tokens[j])
        j += 1
    if not body or body[-1].lower() in VAGUE or body[-1].lower() in STOPS:
        return max(j, i + 1), None
    name, j = _name_after(tokens, j, body)
    before = tokens[i - 1].lower() if i else ""
    body = [w for w in body[:-1] if w.lower() not in VAGUE] + body[-1:]
    head = body[-1]
    phrase = " ".join(([word] if low in DETERMINERS else ["the"] if name and name != head else []) + body)
    role = _role(head, before, main, bool(name) or head[:1].isupper())
    if head[:1].isupper() and not name:  # a bare proper name ("Mara"), maybe followed by "the otter"
        name = head
    return j, Subject(phrase=phrase, head=head, role=role, name=name)


def _name_at_start(tokens: list[str]) -> bool:
    """'Mara the otter ...', 'Pip and Mara ...' start with a name; 'Dragons in the rain' does not."""
    first, follower = tokens[0], tokens[1].lower() if len(tokens) > 1 else ""
    creature = singular(first.lower()) in CREATURES or first.lower() in CREATURES
    return first[:1].isupper() and not creature and follower in ("the", "and", ",", "named", "called", "")


def _continues(tokens: list[str], j: int, body: list[str]) -> bool:
    word, low = tokens[j], tokens[j].lower()
    if not word[:1].isalpha() or low in STOPS or (low in DETERMINERS and body):
        return False
    if body and body[-1][:1].isupper() != word[:1].isupper():
        return False  # "Mara the otter": the name is a phrase of its own
    if body and low.endswith("ing") and low not in ING_NOUNS and len(low) > 5:  # "a fox looking for"
        return False
    follower = tokens[j + 1].lower() if j + 1 < len(tokens) else ""
    return not (body and follower in DETERMINERS)  # "a cat finds a hat": "finds" is a verb


def _name_after(tokens: list[str], j: int, body: list[str]) -> tuple[str, int]:
    """'a fox named Pip' -> ('Pip', after Pip); 'Mara the otter' -> ('Mara', after otter), body ['otter']."""
    if j + 1 < len(tokens) and tokens[j].lower() in ("named", "called") and tokens[j + 1][:1].isupper():
        return tokens[j + 1], j + 2
    if len(body) == 1 and body[0][:1].isupper() and j + 1 < len(tokens) and tokens[j].lower() == "the" \
            and tokens[j + 1][:1].islower() and tokens[j + 1].lower() not in STOPS:
        name = body[0]
        body[:] = [tokens[j + 1]]
        return name, j + 2
    return "", j


def _role(head: str, before: str, main: bool, named: bool) -> str:
    low = head.lower()
    if before in PLACE_PREPOSITIONS and low in PLACE_NOUNS:
        return "place"
    if main or named or low in CREATURES or singular(low) in CREATURES:
        return "character"
    return "place" if low in PLACE_NOUNS else "thing"


def _trim(found: list[Subject], limit: int) -> list[Subject]:
    """At most three characters and one place (the others become things), `limit` subjects in all."""
    characters = [s for s in found if s.role == "character"][:3]
    places = [s for s in found if s.role == "place"]
    for extra in places[1:]:
        extra.role = "thing"
    kept = [s for s in found if s in characters or s.role in ("place", "thing")]
    if not characters and kept:  # "a lost mitten": the first thing is the hero
        first = next((s for s in kept if s.role == "thing"), None)
        if first is not None:
            first.role = "character"
    return kept[:limit]
