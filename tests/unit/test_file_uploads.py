"""Uploads with a stable file id (a request retried under the same Idempotency-Key): the retry
finds the file its first run recorded, writes over an object the first run left unrecorded, and
never deletes the object of a record that won a race."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID, uuid4

import pytest

from adapters.storage.obstore_storage import ObstoreStorage
from domain.files.model import StoredFile
from domain.files.services import FileService, Upload
from domain.identity.model import Role
from domain.shared.ports import ObjectMissing
from tests.unit.fakes import FakeClock
from tests.unit.test_analytics import user


class Files:
    """Records by id; `late` makes `get` miss a record until after the next `add` (a racing run
    that recorded it in between)."""

    def __init__(self) -> None:
        self.rows: dict[UUID, StoredFile] = {}
        self.late: StoredFile | None = None

    async def get(self, file_id: UUID) -> StoredFile | None:
        return self.rows.get(file_id)

    async def add(self, record: StoredFile) -> None:
        if self.late is not None:
            self.rows[self.late.id], self.late = self.late, None
        if record.id in self.rows:
            raise RuntimeError("duplicate key value violates unique constraint")
        self.rows[record.id] = record


def upload(data: bytes) -> Upload:
    async def chunks() -> AsyncIterator[bytes]:
        yield data

    return Upload(filename="notes.pdf", size=len(data), too_large=False, chunks=chunks)


async def objects(storage: ObstoreStorage, key: str) -> bytes | None:
    try:
        return b"".join([chunk async for chunk in await storage.open(key)])
    except ObjectMissing:
        return None


async def test_a_retry_writes_over_the_unrecorded_object_and_then_finds_the_record() -> None:
    storage, files = ObstoreStorage("memory://"), Files()
    service = FileService(storage=storage, files=files, clock=FakeClock())  # type: ignore[arg-type]
    actor, file_id = user(Role.STUDENT), uuid4()
    # The first run stored its object and died before recording it: the same name is used again.
    await storage.put(f"uploads/{file_id.hex}.pdf", upload(b"%PDF first").chunks(), "application/pdf")
    made = await service.upload(actor, upload(b"%PDF retry"), file_id=file_id)
    assert (made.id, made.storage_key) == (file_id, f"uploads/{file_id.hex}.pdf")
    assert await objects(storage, made.storage_key) == b"%PDF retry"
    again = await service.upload(actor, upload(b"%PDF third"), file_id=file_id)
    assert again == made and await objects(storage, made.storage_key) == b"%PDF retry"
    assert list(files.rows) == [file_id]


async def test_a_retry_that_loses_a_race_keeps_the_winners_object() -> None:
    storage, files = ObstoreStorage("memory://"), Files()
    service = FileService(storage=storage, files=files, clock=FakeClock())  # type: ignore[arg-type]
    actor, file_id = user(Role.STUDENT), uuid4()
    winner = await FileService(storage=storage, files=Files(), clock=FakeClock()).upload(  # type: ignore[arg-type]
        actor, upload(b"%PDF winner"), file_id=file_id
    )
    files.late = winner  # recorded after our check, before our insert
    with pytest.raises(RuntimeError):
        await service.upload(actor, upload(b"%PDF loser"), file_id=file_id)
    assert await objects(storage, winner.storage_key) is not None
    # Without a stable id the failed upload's own object goes.
    files.late = None
    failing = Files()
    failing.rows[uuid4()] = winner

    async def refuse(record: StoredFile) -> None:
        raise RuntimeError("database unreachable")

    failing.add = refuse  # type: ignore[method-assign]
    plain = FileService(storage=storage, files=failing, clock=FakeClock())  # type: ignore[arg-type]
    with pytest.raises(RuntimeError):
        await plain.upload(actor, upload(b"%PDF plain"))
    assert [key async for key in _keys(storage)] == [winner.storage_key]


async def _keys(storage: ObstoreStorage) -> AsyncIterator[str]:
    import obstore

    for batch in obstore.list(storage._store):
        for meta in batch:
            yield str(meta["path"])
