"""The videos API against the live server: upload, list, show, serve by ranges, delete."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import httpx
import psycopg
import pytest

from reeldocs.core.settings import Settings
from tests.auth.accounts import join_team, org_id_of
from tests.videos.conftest import VIDEO_SECONDS
from tests.videos.helpers import (
    csrf_headers,
    eventually,
    is_sentence,
    new_project,
    scratch_files,
    storage_root,
    stored_paths,
    upload,
    video_rows,
)


def test_upload_list_show_serve_and_delete(
    user: httpx.Client, sample_video: Path, settings: Settings, db_url: str
) -> None:
    project_id = new_project(user)
    original = sample_video.read_bytes()

    answer = upload(user, project_id, original, "Team onboarding tour.mp4")
    assert answer.status_code == 201, answer.text
    video = answer.json()
    assert set(video) >= {
        "id",
        "project_id",
        "title",
        "status",
        "duration_seconds",
        "size_bytes",
        "source_language",
        "languages_ready",
        "created_at",
    }
    assert video["project_id"] == project_id
    assert video["title"] == "Team onboarding tour"
    assert video["status"] == "uploaded"
    assert video["duration_seconds"] == pytest.approx(VIDEO_SECONDS, abs=0.2)
    assert video["size_bytes"] == len(original)
    assert video["source_language"] is None
    assert video["languages_ready"] == []
    assert video["mime"] == "video/mp4"
    assert video["codecs"]["video"] == "h264"
    assert (video["codecs"]["width"], video["codecs"]["height"]) == (320, 180)
    datetime.fromisoformat(video["created_at"])

    stored = storage_root(settings) / "videos" / video["id"] / "source"
    assert stored.read_bytes() == original
    [row] = video_rows(db_url, project_id)
    assert row[1:4] == ("uploaded", "video/mp4", len(original))
    assert row[4]["video"] == "h264" and row[5] == f"videos/{video['id']}/source"
    assert scratch_files(settings) == []

    newer = upload(user, project_id, original, "ignored.mp4", title="  Second\tupload ")
    assert newer.status_code == 201, newer.text
    assert newer.json()["title"] == "Second upload"
    listed = user.get(f"/api/projects/{project_id}/videos")
    assert listed.status_code == 200
    assert [v["id"] for v in listed.json()] == [newer.json()["id"], video["id"]]

    shown = user.get(f"/api/videos/{video['id']}")
    assert shown.status_code == 200
    assert shown.json() == video

    whole = user.get(f"/api/videos/{video['id']}/file")
    assert whole.status_code == 200
    assert whole.content == original
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.headers["accept-ranges"] == "bytes"
    assert int(whole.headers["content-length"]) == len(original)

    size = len(original)
    for header, start, end in [
        ("bytes=0-99", 0, 99),
        ("bytes=1000-", 1000, size - 1),
        ("bytes=-500", size - 500, size - 1),
        (f"bytes=10-{size * 10}", 10, size - 1),
        (f"bytes={size - 1}-{size - 1}", size - 1, size - 1),
        # positions far past any file (more digits than Python parses by default)
        ("bytes=0-" + "9" * 5000, 0, size - 1),
        ("bytes=-" + "9" * 5000, 0, size - 1),
        ("bytes=" + "0" * 5000 + "7-9", 7, 9),
    ]:
        part = user.get(f"/api/videos/{video['id']}/file", headers={"Range": header})
        assert part.status_code == 206, header
        assert part.content == original[start : end + 1], header
        assert part.headers["content-range"] == f"bytes {start}-{end}/{size}"
        assert int(part.headers["content-length"]) == end - start + 1
        assert part.headers["content-type"] == "video/mp4"

    for unsatisfiable in (
        f"bytes={size}-",
        f"bytes={size + 5}-{size + 10}",
        "bytes=-0",
        "bytes=" + "9" * 5000 + "-",
        "bytes=" + "9" * 5000 + "-" + "9" * 5001,
    ):
        refused = user.get(f"/api/videos/{video['id']}/file", headers={"Range": unsatisfiable})
        assert refused.status_code == 416, unsatisfiable
        assert refused.headers["content-range"] == f"bytes */{size}"
        assert is_sentence(refused.json()["detail"])
        assert len(refused.json()["detail"]) < 200

    deleted = user.delete(f"/api/videos/{video['id']}", headers=csrf_headers(user))
    assert deleted.status_code == 204, deleted.text
    assert user.get(f"/api/videos/{video['id']}").status_code == 404
    assert user.get(f"/api/videos/{video['id']}/file").status_code == 404
    assert [row[0] for row in video_rows(db_url, project_id)] == [uuid.UUID(newer.json()["id"])]
    # Files go in a background task just after the response.
    assert eventually(lambda: not (storage_root(settings) / "videos" / video["id"]).exists())
    assert (storage_root(settings) / "videos" / newer.json()["id"] / "source").exists()
    assert [v["id"] for v in user.get(f"/api/projects/{project_id}/videos").json()] == [
        newer.json()["id"]
    ]


def test_file_names_only_make_titles(
    user: httpx.Client, sample_video: Path, settings: Settings, db_url: str
) -> None:
    project_id = new_project(user)
    before = stored_paths(settings)
    answer = upload(
        user, project_id, sample_video.read_bytes(), "../../../etc/Quarterly\x1b review.v2.mp4"
    )
    assert answer.status_code == 201, answer.text
    video = answer.json()
    assert video["title"] == "Quarterly review.v2"
    assert stored_paths(settings) - before == {
        f"videos/{video['id']}",
        f"videos/{video['id']}/source",
    }

    long_name = "x" * 300 + ".mp4"
    answer = upload(user, project_id, sample_video.read_bytes(), long_name)
    assert answer.status_code == 201, answer.text
    assert answer.json()["title"] == "x" * 200


def test_a_title_over_200_characters_is_refused_and_nothing_is_kept(
    user: httpx.Client, sample_video: Path, settings: Settings, db_url: str
) -> None:
    project_id = new_project(user)
    before = stored_paths(settings)
    answer = upload(user, project_id, sample_video.read_bytes(), "tour.mp4", title="t" * 201)
    assert answer.status_code == 422
    assert is_sentence(answer.json()["detail"])
    assert video_rows(db_url, project_id) == []
    assert stored_paths(settings) == before


@pytest.mark.parametrize("kind", ["empty", "text", "truncated", "audio_only"])
def test_files_that_are_not_usable_videos_are_refused_and_leave_nothing(
    kind: str,
    user: httpx.Client,
    refused_files: dict[str, Path],
    settings: Settings,
    db_url: str,
) -> None:
    project_id = new_project(user)
    before = stored_paths(settings)
    answer = upload(user, project_id, refused_files[kind].read_bytes(), "recording.mp4")
    assert answer.status_code in (415, 422), answer.text
    body = answer.json()
    assert body["error"] in ("UnsupportedMedia", "ValidationError")
    assert is_sentence(body["detail"]), body
    assert "Traceback" not in answer.text
    assert video_rows(db_url, project_id) == []
    assert stored_paths(settings) == before
    assert scratch_files(settings) == []
    assert user.get(f"/api/projects/{project_id}/videos").json() == []


def test_sound_without_pictures_is_explained(
    user: httpx.Client, refused_files: dict[str, Path]
) -> None:
    project_id = new_project(user)
    answer = upload(user, project_id, refused_files["audio_only"].read_bytes(), "voice.mp4")
    assert "no video stream" in answer.json()["detail"]


def test_requests_that_are_not_multipart_uploads(
    user: httpx.Client, settings: Settings, db_url: str
) -> None:
    project_id = new_project(user)
    headers = csrf_headers(user)
    url = f"/api/projects/{project_id}/videos"

    not_multipart = user.post(url, content=b"\x00" * 100, headers=headers)
    assert not_multipart.status_code == 415
    assert is_sentence(not_multipart.json()["detail"])

    no_file = user.post(url, files={"title": (None, "Just a title")}, headers=headers)
    assert no_file.status_code == 422
    assert "file" in no_file.json()["detail"]

    boundary = "reeldocs-test-boundary"
    cut_short = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode() + b"\x00" * 5000
    unfinished = user.post(
        url,
        content=cut_short,
        headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert unfinished.status_code == 400
    assert is_sentence(unfinished.json()["detail"])
    assert video_rows(db_url, project_id) == []


def test_upload_refusals_say_what_is_wrong_with_the_form(
    user: httpx.Client, sample_video: Path, db_url: str
) -> None:
    project_id = new_project(user)
    headers = csrf_headers(user)
    url = f"/api/projects/{project_id}/videos"
    content = sample_video.read_bytes()

    wrong_field = user.post(
        url, files={"video": ("tour.mp4", content, "video/mp4")}, headers=headers
    )
    assert wrong_field.status_code == 422
    detail = wrong_field.json()["detail"]
    assert is_sentence(detail)
    assert "'video'" in detail and "field 'file'" in detail and "too long" not in detail

    long_name = "a" * 5000 + ".mp4"
    named = user.post(url, files={"file": (long_name, content, "video/mp4")}, headers=headers)
    assert named.status_code == 422
    assert "file name is too long" in named.json()["detail"]
    assert "well-formed" not in named.json()["detail"]

    long_text = user.post(url, files={"notes": (None, "x" * 20_000)}, headers=headers)
    assert long_text.status_code == 422
    assert "'notes'" in long_text.json()["detail"]
    assert "field 'file'" in long_text.json()["detail"]
    assert video_rows(db_url, project_id) == []


def test_cookie_uploads_need_the_csrf_token_and_bearer_uploads_do_not(
    user: httpx.Client, base_url: str, sample_video: Path, settings: Settings, db_url: str
) -> None:
    project_id = new_project(user)
    before = stored_paths(settings)
    content = sample_video.read_bytes()

    forged = upload(user, project_id, content, "tour.mp4", headers={})
    assert forged.status_code == 403
    assert is_sentence(forged.json()["detail"])
    wrong = upload(user, project_id, content, "tour.mp4", headers={"X-CSRF-Token": "nope"})
    assert wrong.status_code == 403
    assert video_rows(db_url, project_id) == [] and stored_paths(settings) == before

    created = user.post("/api/tokens", json={"name": "uploader"})
    assert created.status_code == 201, created.text
    with httpx.Client(
        base_url=base_url,
        timeout=60,
        headers={"Authorization": f"Bearer {created.json()['token']}"},
    ) as script:
        answer = upload(script, project_id, content, "tour.mp4", headers={})
        assert answer.status_code == 201, answer.text
        deleted = script.delete(f"/api/videos/{answer.json()['id']}")
        assert deleted.status_code == 204


def test_viewers_may_watch_but_not_change_and_other_teams_see_nothing(
    make_user: Callable[..., httpx.Client], sample_video: Path, settings: Settings, db_url: str
) -> None:
    owner, viewer, outsider = make_user("owner"), make_user("viewer"), make_user("outsider")
    project_id = new_project(owner)
    content = sample_video.read_bytes()
    video = upload(owner, project_id, content, "tour.mp4").json()
    join_team(owner, org_id_of(owner), viewer, "viewer")

    assert [v["id"] for v in viewer.get(f"/api/projects/{project_id}/videos").json()] == [
        video["id"]
    ]
    assert viewer.get(f"/api/videos/{video['id']}").json()["id"] == video["id"]
    assert viewer.get(f"/api/videos/{video['id']}/file").content == content
    before = stored_paths(settings)
    refused_upload = upload(viewer, project_id, content, "mine.mp4")
    assert refused_upload.status_code == 403
    assert is_sentence(refused_upload.json()["detail"])
    assert stored_paths(settings) == before
    refused_delete = viewer.delete(f"/api/videos/{video['id']}", headers=csrf_headers(viewer))
    assert refused_delete.status_code == 403

    for answer in (
        outsider.get(f"/api/projects/{project_id}/videos"),
        upload(outsider, project_id, content, "theirs.mp4"),
        outsider.get(f"/api/videos/{video['id']}"),
        outsider.get(f"/api/videos/{video['id']}/file"),
        outsider.get(f"/api/videos/{video['id']}/file", headers={"Range": "bytes=0-9"}),
        outsider.delete(f"/api/videos/{video['id']}", headers=csrf_headers(outsider)),
    ):
        assert answer.status_code == 404, (answer.request.method, answer.request.url)
        assert is_sentence(answer.json()["detail"])
    assert [row[0] for row in video_rows(db_url, project_id)] == [uuid.UUID(video["id"])]
    assert stored_paths(settings) == before


def test_an_upload_cut_off_by_the_client_leaves_nothing(
    user: httpx.Client, base_url: str, sample_video: Path, settings: Settings, db_url: str
) -> None:
    project_id = new_project(user)
    before = stored_paths(settings)
    boundary = "reeldocs-cut-off"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="tour.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    sent = head + sample_video.read_bytes() + b"\x00" * (3 * 1024 * 1024)
    host, port = base_url.removeprefix("http://").split(":")
    request = (
        f"POST /api/projects/{project_id}/videos HTTP/1.1\r\nHost: {host}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(sent) + 50 * 1024 * 1024}\r\n"
        f"Cookie: reeldocs_session={user.cookies['reeldocs_session']}\r\n"
        f"X-CSRF-Token: {csrf_headers(user)['X-CSRF-Token']}\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port))) as connection:
        connection.sendall(request + sent)
        # Wait until the server has staged some of it, then vanish.
        assert eventually(lambda: len(stored_paths(settings) - before) > 0)
    assert eventually(lambda: stored_paths(settings) == before)
    assert video_rows(db_url, project_id) == []
    assert scratch_files(settings) == []


def test_slugs_come_from_titles_and_are_unique_within_a_project(
    user: httpx.Client, sample_video: Path, db_url: str
) -> None:
    first_project, second_project = new_project(user, "Slugs"), new_project(user, "Slugs too")
    content = sample_video.read_bytes()
    slugs = []
    for project_id in (first_project, first_project, second_project):
        answer = upload(user, project_id, content, "x.mp4", title="Café: the tour!")
        assert answer.status_code == 201, answer.text
        slugs.append(answer.json()["slug"])
    assert slugs[0] == "cafe-the-tour" and slugs[2] == "cafe-the-tour"
    assert slugs[1].startswith("cafe-the-tour-") and slugs[1] != slugs[0]
    listed = user.get(f"/api/projects/{first_project}/videos").json()
    assert sorted(v["slug"] for v in listed) == sorted(slugs[:2])
    # the slug is the video's lasting name: a new title leaves it as it was
    video_id = listed[0]["id"]
    with psycopg.connect(db_url) as conn:
        conn.execute("UPDATE videos SET title = 'Renamed' WHERE id = %s", (video_id,))
    assert user.get(f"/api/videos/{video_id}").json()["slug"] == listed[0]["slug"]
