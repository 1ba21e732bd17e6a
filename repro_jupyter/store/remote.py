"""The remote tier of a team store: immutable objects and catalog journal entries on an fsspec URL.

Layout under the store URL::

    objects/ab/cdef...        an object, named by the sha256 of its bytes (as in a local store)
    catalog/<sha256>.json     a catalog journal entry, named by the sha256 of its bytes

Nothing is ever overwritten: a name is checked before it is written, and since a
name is the hash of the content, two writers racing to put the same name put the
same bytes (so no conditional-write support is needed from the server).  Every
download is hashed before use: a corrupt remote object is an ``ObjectCorrupt``
naming it, never a wrong record.  On a local or mounted file system (``file://``)
writes go to a temporary name first, so a reader never sees half an object.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

from .. import digests
from ..errors import ObjectCorrupt, ObjectMissing, StoreError
from .objects import ObjectStore, _hex

CHUNK = 1 << 22
S3_SCHEMES = ("s3", "s3a")


def one_line(exc: BaseException) -> str:
    """A network or backend error as one short line (botocore messages span several)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:240]


class RemoteTier:
    """An fsspec file system rooted at the store URL, with content-addressed put/get."""

    def __init__(self, connect_url: str, url: str, options: dict[str, Any]) -> None:
        self.url = url  # credential-free: the only form that appears in messages
        scheme = url.split("://", 1)[0]
        try:
            from fsspec.core import url_to_fs
        except ImportError:
            raise StoreError(f"a team store ({url}) needs fsspec: pip install 'repro-jupyter[s3]'") from None
        try:
            # fsspec caches a filesystem per URL and options, with the credentials and endpoint of the
            # environment it was first made in: a store opened later must see the environment of now
            self.fs, self.root = url_to_fs(connect_url, **{"skip_instance_cache": True, **options})
        except ImportError:
            if scheme in S3_SCHEMES:
                raise StoreError(
                    f"{url}: an s3:// store needs s3fs: pip install 'repro-jupyter[s3]'"
                ) from None
            raise StoreError(f"{url}: no fsspec backend for {scheme}:// is installed") from None
        except Exception as exc:
            raise StoreError(f"cannot open the team store {url}: {one_line(exc)}") from None
        self.root = self.root.rstrip("/")
        protocol = self.fs.protocol
        self._local = "file" in (protocol if isinstance(protocol, (tuple, list)) else (protocol,))
        self._known: set[str] = set()  # objects seen on the remote by this process

    # --- paths ------------------------------------------------------------------------------
    def object_path(self, digest: str) -> str:
        """The remote path of an object (same layout as a local store); StoreError for a malformed id."""
        _hex(digest)  # StoreError for anything but an object id
        return "/".join([f"{self.root}/objects", *digests.relative_parts(digest)])

    def journal_dir(self) -> str:
        """The remote folder of catalog journal entries (``catalog/<sha256>.json``)."""
        return f"{self.root}/catalog"

    # --- writes (never overwrite) -----------------------------------------------------------
    def _exists(self, path: str) -> bool:
        try:
            return bool(self.fs.exists(path))
        except Exception as exc:
            raise StoreError(f"cannot reach the team store {self.url}: {one_line(exc)}") from None

    def _put(self, path: str, *, local_file: Path | None = None, data: bytes | None = None) -> None:
        target = path
        try:
            if self._local:  # a mounted folder: write aside, then rename into place
                parent = path.rsplit("/", 1)[0]
                self.fs.makedirs(parent, exist_ok=True)
                target = f"{parent}/.tmp-{uuid.uuid4().hex}"
            if local_file is not None:
                self.fs.put_file(str(local_file), target)
            else:
                self.fs.pipe_file(target, data)
            if target != path:
                self.fs.mv(target, path)
        except Exception as exc:
            raise StoreError(f"cannot upload to the team store {self.url}: {one_line(exc)}") from None

    def upload(self, digest: str, local_file: Path) -> bool:
        """Put a (verified) local object on the remote unless it is there already; True if sent."""
        if digest in self._known:
            return False
        path = self.object_path(digest)
        sent = False
        if not self._exists(path):
            self._put(path, local_file=local_file)
            sent = True
        self._known.add(digest)
        return sent

    def publish(self, data: bytes) -> str:
        """Put a journal entry under the hash of its bytes (a no-op when it is there); its name."""
        name = hashlib.sha256(data).hexdigest() + ".json"
        path = f"{self.journal_dir()}/{name}"
        if not self._exists(path):
            self._put(path, data=data)
        return name

    # --- reads (always verified) ------------------------------------------------------------
    def has(self, digest: str) -> bool:
        """Whether the remote holds the object (remembered once seen by
        this process); StoreError when the remote cannot be reached."""
        return digest in self._known or self._exists(self.object_path(digest))

    def download(self, digest: str, into: ObjectStore) -> None:
        """Fetch an object into the local cache, streamed and hashed; a mismatch is dropped."""
        path = self.object_path(digest)
        try:
            with self.fs.open(path, "rb") as fh:
                into.put_stream(iter(lambda: fh.read(CHUNK), b""), expect=digest)
        except FileNotFoundError:
            raise ObjectMissing(f"store object {digest} is missing from {self.url}") from None
        except ObjectCorrupt:
            raise ObjectCorrupt(
                f"store object {digest} on {self.url} is corrupt (its content does not match its name)"
            ) from None
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"cannot fetch store object {digest} from {self.url}: {one_line(exc)}") from None
        self._known.add(digest)

    def journal_names(self) -> list[str]:
        """Names of every journal entry on the remote (listed afresh, never from a cache)."""
        directory = self.journal_dir()
        try:
            self.fs.invalidate_cache(directory)
            listed = self.fs.ls(directory, detail=False)
        except FileNotFoundError:
            return []
        except Exception as exc:
            raise StoreError(f"cannot list the catalog journal of {self.url}: {one_line(exc)}") from None
        names = (str(p).rstrip("/").rsplit("/", 1)[-1] for p in listed)
        return sorted(n for n in names if n.endswith(".json") and len(n) == 69)

    def read_journal(self, names: list[str]) -> tuple[dict[str, bytes], dict[str, str]]:
        """(the bytes of the named entries that match their names, {name: why refused} for the rest).

        A corrupt or planted entry is refused on its own: it must not stop the team's other
        entries from ever being imported.
        """
        if not names:
            return {}, {}
        paths = {f"{self.journal_dir()}/{n}": n for n in names}
        try:
            fetched = self.fs.cat(list(paths), on_error="return")
        except Exception as exc:
            raise StoreError(f"cannot read the catalog journal of {self.url}: {one_line(exc)}") from None
        out: dict[str, bytes] = {}
        refused: dict[str, str] = {}
        for path, name in paths.items():
            data = fetched.get(path, fetched.get(self.fs._strip_protocol(path)))
            if isinstance(data, BaseException) or data is None:
                reason = one_line(data) if isinstance(data, BaseException) else "not returned"
                raise StoreError(f"cannot read journal entry {name} of {self.url}: {reason}")
            if hashlib.sha256(data).hexdigest() + ".json" != name:
                refused[name] = "its content does not match its name"
                continue
            out[name] = data
        return out, refused


class TieredObjects(ObjectStore):
    """Objects of a team store: the local cache first, then the remote (verified, then cached).

    Writes go to the cache only; ``journal.push`` uploads them before the catalog
    entries that refer to them, so a reader who sees an entry can fetch its objects.
    """

    def __init__(self, root: Path, remote: RemoteTier) -> None:
        super().__init__(root)
        self.remote = remote
        self.local = ObjectStore(root)

    def _fetch(self, digest: str) -> None:
        if not self.local.has(digest):
            self.remote.download(digest, self.local)

    def has(self, digest: str) -> bool:
        """Whether the local cache or the remote has the object (the remote is asked only on a cache miss)."""
        return self.local.has(digest) or self.remote.has(digest)

    def get_bytes(self, digest: str) -> bytes:
        """The object's verified bytes, downloaded into the local cache first when missing there."""
        self._fetch(digest)
        return self.local.get_bytes(digest)

    def verified_path(self, digest: str) -> Path:
        """The verified local file of the object, downloaded into the cache first when missing there."""
        self._fetch(digest)
        return self.local.verified_path(digest)


__all__ = ["RemoteTier", "TieredObjects", "one_line"]
