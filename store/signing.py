"""Nobody speaks for you: each profile signs what its person wrote, and a record claiming a
person whose key this profile knows must carry that key's signature (issue 15).

A bundle carries its author id in every record, so anyone could send a record "by" me with a
newer `modified` and replace my note ("1 updated", no conflict). Each profile now holds an
ed25519 key (through `cryptography`: a well-kept library with constant-time verification; a
signature scheme is not code to write ourselves). Exports sign every record the exporting
person answers for (its editor, or its creator when nobody else changed it); a merge refuses
a record that claims a known person without that person's valid signature. A person seen for the first time is taken on first use: with a valid
signature their key is remembered, without one the records come in and `margin authors` shows
them as unverified.

Keys live in the config folder, beside the profile: `signing-key` (the private key, mode 0600)
and `known-authors.json` (people this profile has met, with their public keys), so no schema
change is needed. Signatures are not stored in the library: a note of Bob's forwarded by me
arrives unsigned, and is refused by someone who knows Bob's key (they should get it from Bob).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from store.errors import LibraryError
from store.records import Author, now

SIGNATURE = "margin:signature"
EDITOR = "margin:editor"
PUBLIC_KEY = "margin:publicKey"
KEY_FILE = "signing-key"
KNOWN_FILE = "known-authors.json"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def load_key(config_dir: Path) -> Ed25519PrivateKey:
    """This profile's private key, made on first use (0600, never leaves the config folder)."""
    path = Path(config_dir) / KEY_FILE
    try:
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(path.read_bytes()))
    except FileNotFoundError:
        pass
    except ValueError as error:
        raise LibraryError(f"{path}: not a margin signing key ({error})") from None
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(base64.b64encode(key.private_bytes_raw()))
    return key


def public_text(key: Ed25519PrivateKey) -> str:
    """The public half, as it travels in a bundle's creator."""
    return _b64(key.public_key().public_bytes_raw())


def fingerprint(public: str) -> str:
    """A short, readable fingerprint of a public key: 16 hex digits in groups of four."""
    digest = hashlib.sha256(public.encode("ascii")).hexdigest()[:16]
    return " ".join(digest[i : i + 4] for i in range(0, 16, 4))


def _payload(item: dict) -> bytes:
    unsigned = {k: v for k, v in item.items() if k not in (SIGNATURE, "@context")}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _signer(item: dict) -> tuple[str, dict, str] | None:
    """Who answers for a record as it stands: its editor when someone other than the author
    changed it last (`margin:editor`, issue 12), else its creator; as (term, person, id).

    An edit by Bob of Ada's note is Bob's word, signed with Bob's key: Ada's key cannot sign
    it, and asking for hers made every colleague's edit a conflict. A record that names no
    editor claims to be its creator's own, and needs the creator's signature.
    """
    for term in (EDITOR, "creator"):
        person = item.get(term)
        if isinstance(person, dict) and isinstance(person.get("id"), str):
            return term, person, person["id"].removeprefix("urn:uuid:").lower()
    return None


def sign_item(key: Ed25519PrivateKey, me: Author, item: dict) -> dict:
    """The record signed when `me` answers for it (others' records go as they are)."""
    signer = _signer(item)
    if signer is None or signer[2] != me.id.lower():
        return item
    term, person, _ = signer
    signed = dict(item)
    signed[term] = {**person, PUBLIC_KEY: public_text(key)}
    signed[SIGNATURE] = _b64(key.sign(_payload(signed)))
    return signed


def _verifies(public: str, item: dict) -> bool:
    signature = item.get(SIGNATURE)
    if not isinstance(signature, str):
        return False
    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(public)).verify(
            base64.b64decode(signature), _payload(item)
        )
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass
class KnownAuthor:
    """A person this profile has met, with the key their records are signed with (or none)."""

    id: str
    name: str
    key: str | None
    first_seen: str
    source: str

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.key) if self.key else "unverified (unsigned, taken on first use)"

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "key": self.key,
            "fingerprint": fingerprint(self.key) if self.key else None,
            "first_seen": self.first_seen,
            "source": self.source,
        }


@dataclass
class KeyRing:
    """The keys one profile knows: its own and those met on first use."""

    config_dir: Path
    me: Author
    key: Ed25519PrivateKey
    known: dict[str, KnownAuthor] = field(default_factory=dict)
    changed: bool = False

    @classmethod
    def load(cls, config_dir: Path, me: Author) -> KeyRing:
        ring = cls(Path(config_dir), me, load_key(config_dir))
        try:
            raw = json.loads((ring.config_dir / KNOWN_FILE).read_text(encoding="utf-8"))
            for entry in raw if isinstance(raw, list) else []:
                ring.known[entry["id"]] = KnownAuthor(**entry)
        except FileNotFoundError:
            pass
        except (ValueError, KeyError, TypeError) as error:
            raise LibraryError(f"{ring.config_dir / KNOWN_FILE}: unreadable ({error})") from None
        mine = KnownAuthor(me.id.lower(), me.name, public_text(ring.key), now(), "this profile")
        ring.known[mine.id] = ring.known.get(mine.id, mine)
        ring.known[mine.id].key = mine.key
        return ring

    def sign(self, item: dict) -> dict:
        """An exported record, signed when this person wrote it."""
        return sign_item(self.key, self.me, item)

    def check(self, item: dict, source: str = "") -> str | None:
        """Why a record claiming a known person is refused, or None. A first-seen person is
        remembered (their key when the record is signed with the key it carries)."""
        signer = _signer(item)
        if signer is None:
            return None  # the record checks say what is wrong with its creator
        _, creator, author_id = signer
        given = creator.get("name")
        name: str = given if isinstance(given, str) else "someone"
        known = self.known.get(author_id)
        if known is not None and known.key:
            if _verifies(known.key, item):
                return None
            return (
                f"claims to be {name[:60]!r} ({author_id[:8]}), whose key this profile knows "
                f"({fingerprint(known.key)}), but is not signed with it; refused"
            )
        offered = creator.get(PUBLIC_KEY)
        key = offered if isinstance(offered, str) and _verifies(offered, item) else None
        if known is None or (key and not known.key):
            self.known[author_id] = KnownAuthor(author_id, name[:200], key, now(), source)
            self.changed = True
        return None

    def save(self) -> None:
        """Remember the people met (called after a merge that committed)."""
        if not self.changed:
            return
        path = self.config_dir / KNOWN_FILE
        entries = [a.to_json() for a in self.known.values()]
        for entry in entries:
            entry.pop("fingerprint")
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(entries, indent=2, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
        self.changed = False

    def authors(self) -> list[KnownAuthor]:
        """Everyone this profile knows, this person first, then by name."""
        me = self.me.id.lower()
        return sorted(self.known.values(), key=lambda a: (a.id != me, a.name.lower()))
