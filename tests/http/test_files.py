"""Files over HTTP (API §5.10, §7.10) on local and memory storage: uploads and their checks in
order, the access rules, downloads, deletion."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.http.conftest import MakeApiFn
from tests.http.test_auth import invalid, problem
from tests.support.api import Api, Session
from tests.support.catalog import user_with_role

NO_SUCH = "00000000-0000-0000-0000-00000000abcd"


@pytest.fixture(params=["local", "memory"])
async def files_api(make_api: MakeApiFn, request: pytest.FixtureRequest, tmp_path: Path) -> Api:
    url = f"file://{tmp_path / 'objects'}" if request.param == "local" else "memory://"
    return await make_api(LMS_STORAGE_URL=url, LMS_MAX_UPLOAD_MB="1")


async def upload(api: Api, who: Session, name: str = "notes.pdf", body: bytes = b"%PDF-1.4 x", **form: str) -> Any:
    files = {"file": (name, body, form.pop("content_type", "application/pdf"))}
    return await api.client.post("/api/v1/files/upload", files=files, data=form, headers=who.headers)


async def test_upload_read_download_delete(files_api: Api) -> None:
    api = files_api
    owner = await api.register()
    r = await upload(
        api, owner, "../../secret/Résumé Final.PDF", b"%PDF-1.4 hello", folder="docs\\2026", is_public="TRUE"
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["original_filename"] == "Résumé Final.PDF"
    assert len(body["filename"]) == 36
    assert body["filename"].endswith(".pdf")
    assert "Résumé" not in body["filename"]
    assert (body["file_type"], body["mime_type"], body["file_size"], body["is_public"]) == (
        "document",
        "application/pdf",
        14,
        True,
    )
    assert body["storage_provider"] in ("local", "memory")
    assert body["file_url"] == f"/api/v1/files/download/{body['id']}"
    r = await api.client.get(body["file_url"], headers=owner.headers)
    assert (r.status_code, r.content, r.headers["content-length"]) == (200, b"%PDF-1.4 hello", "14")
    assert r.headers["content-type"].startswith("application/pdf")
    assert r.headers["content-disposition"] == (
        "attachment; filename=\"R?sum? Final.PDF\"; filename*=UTF-8''R%C3%A9sum%C3%A9%20Final.PDF"
    )
    mine = (await api.client.get("/api/v1/files/my-files", headers=owner.headers)).json()
    assert [f["id"] for f in mine["items"]] == [body["id"]]
    assert (
        await api.client.get("/api/v1/files/my-files", params={"file_type": "video"}, headers=owner.headers)
    ).json()["total"] == 0
    assert (await api.client.delete(f"/api/v1/files/{body['id']}", headers=owner.headers)).status_code == 204
    problem(await api.client.get(f"/api/v1/files/{body['id']}", headers=owner.headers), 404, "File not found")
    problem(await api.client.get(body["file_url"], headers=owner.headers), 404, "File not found")


async def test_the_checks_run_in_order_and_change_nothing(files_api: Api) -> None:
    api = files_api
    who = await api.register()
    big = b"x" * (1024 * 1024 + 1)
    for name, body, form, message in (
        ("empty.exe", b"", {"folder": "../x"}, "Uploaded file is empty"),
        ("big.exe", big, {"folder": "../x"}, "File too large. Max size is 1MB"),
        ("a.exe", b"x", {"folder": "../up"}, "Invalid folder path"),
        ("a.exe", b"x", {"folder": "/abs"}, "Invalid folder path"),
        ("a.exe", b"x", {"folder": "my folder"}, "Folder path contains unsupported characters"),
        ("a.exe", b"x", {}, "File extension '.exe' is not allowed"),
        ("noextension", b"x", {}, "File extension '.' is not allowed"),
    ):
        problem(await upload(api, who, name, body, **form), 400, message)
    exactly = await upload(api, who, "exact.png", b"x" * (1024 * 1024), content_type="image/png")
    assert (exactly.status_code, exactly.json()["file_type"]) == (201, "image")
    mine = (await api.client.get("/api/v1/files/my-files", headers=who.headers)).json()
    assert mine["total"] == 1


async def test_folders_are_sanitised(files_api: Api) -> None:
    api = files_api
    who = await api.register()
    for folder in ("", "  ", "./", "a/./b//", "x_y-z/1"):
        r = await upload(api, who, folder=folder)
        assert r.status_code == 201, (folder, r.text)


async def test_form_problems_are_422(files_api: Api) -> None:
    api = files_api
    who = await api.register()
    url = "/api/v1/files/upload"
    invalid(await api.client.post(url, files={"folder": (None, "x")}, headers=who.headers), "form.file")
    two = [("file", ("a.pdf", b"1", "application/pdf")), ("file", ("b.pdf", b"2", "application/pdf"))]
    invalid(await api.client.post(url, files=two, headers=who.headers), "form.file")
    invalid(await api.client.post(url, json={"file": "x"}, headers=who.headers), "form")
    invalid(await upload(api, who, is_public="maybe"), "form.is_public")
    problem(await api.client.post(url, files={"file": ("a.pdf", b"1")}), 401, "Not authenticated")


async def test_who_sees_and_deletes_a_file(files_api: Api) -> None:
    api = files_api
    owner = await api.register()
    other = await api.register()
    admin = await user_with_role(api, "admin")
    private = (await upload(api, owner)).json()
    public = (await upload(api, owner, is_public="1")).json()
    for route in ("/api/v1/files/{}", "/api/v1/files/download/{}"):
        problem(
            await api.client.get(route.format(private["id"]), headers=other.headers),
            403,
            "Not authorized to access this file",
        )
        assert (await api.client.get(route.format(public["id"]), headers=other.headers)).status_code == 200
        assert (await api.client.get(route.format(private["id"]), headers=admin.headers)).status_code == 200
        problem(await api.client.get(route.format(public["id"])), 401, "Not authenticated")
    problem(
        await api.client.delete(f"/api/v1/files/{public['id']}", headers=other.headers),
        403,
        "Not authorized to delete this file",
    )
    assert (await api.client.delete(f"/api/v1/files/{public['id']}", headers=admin.headers)).status_code == 204
    problem(await api.client.get(f"/api/v1/files/{NO_SUCH}", headers=owner.headers), 404, "File not found")
    invalid(await api.client.get("/api/v1/files/nope", headers=owner.headers), "path.file_id")
    invalid(await api.client.get("/api/v1/files/download/nope", headers=owner.headers), "path.file_id")


async def test_an_object_gone_from_the_store_is_404(files_api: Api) -> None:
    api = files_api
    owner = await api.register()
    record = (await upload(api, owner)).json()
    from adapters.sql.models import FileRow

    async with api.container.sessions() as session:
        key = (await session.get(FileRow, record["id"])).storage_key  # type: ignore[union-attr]
    await api.container.storage.delete(key)
    problem(await api.client.get(record["file_url"], headers=owner.headers), 404, "File no longer exists")
    assert (await api.client.delete(f"/api/v1/files/{record['id']}", headers=owner.headers)).status_code == 204


async def test_the_stored_type_comes_from_the_extension_not_the_client(files_api: Api) -> None:
    """An upload claiming `text/html` or `image/svg+xml` is stored and served as its extension's
    type, always as an attachment."""
    api = files_api
    owner = await api.register()
    for claimed in ("text/html", "image/svg+xml", "application/x-evil\x00"):
        r = await upload(api, owner, "page.png", b"<html><script>alert(1)</script></html>", content_type=claimed)
        assert (r.status_code, r.json()["mime_type"], r.json()["file_type"]) == (201, "image/png", "image"), r.text
        served = await api.client.get(r.json()["file_url"], headers=owner.headers)
        assert served.headers["content-type"] == "image/png"
        assert served.headers["content-disposition"].startswith("attachment;")
        assert served.headers["x-content-type-options"] == "nosniff"


async def test_control_characters_never_reach_a_stored_name(files_api: Api) -> None:
    """CR/LF would split every later download's headers; NUL cannot be stored on PostgreSQL."""
    api = files_api
    owner = await api.register()
    boundary = "b0undary"
    # A quoted name is percent-decoded as browsers send it (`%0D%0A` is CR/LF); NUL and TAB come raw.
    for raw, stored in ((b"in%0D%0Ajected.pdf", "injected.pdf"), (b"nul\x00led.pdf", "nulled.pdf"),
                        (b"tab\tbed\x7f.pdf", "tabbed.pdf"), (b"\xe2\x80\xaefdp.exe.pdf", "fdp.exe.pdf")):  # fmt: skip
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="'.encode()
            + raw
            + b'"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\r\n--'
            + boundary.encode()
            + b"--\r\n"
        )
        headers = {**owner.headers, "content-type": f"multipart/form-data; boundary={boundary}"}
        r = await api.client.post("/api/v1/files/upload", content=body, headers=headers)
        assert (r.status_code, r.json()["original_filename"]) == (201, stored), r.text
        served = await api.client.get(r.json()["file_url"], headers=owner.headers)
        assert served.status_code == 200
        assert served.headers["content-disposition"] == f'attachment; filename="{stored}"'
