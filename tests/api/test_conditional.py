"""Conditional GETs on a real server: JSON answers carry an ETag, an unchanged one comes back as 304."""

from __future__ import annotations

from checkd.api.conditional import entity_tag, matches
from checkd_process import CheckdProcess

GZIP = {"Accept-Encoding": "gzip"}


def test_an_unchanged_answer_is_304_without_a_body(server: CheckdProcess) -> None:
    first = server.get("/api/v2/services", headers=GZIP)
    assert first.status_code == 200, first.text
    tag = first.headers["etag"]
    assert tag == entity_tag(first.content)
    again = server.get("/api/v2/services", headers={**GZIP, "If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == tag
    assert "content-type" not in again.headers
    other = server.get("/api/v2/services", headers={"If-None-Match": '"not-this-one"'})
    assert other.status_code == 200
    assert other.json() == first.json()


def test_a_changed_answer_is_sent_whole(server: CheckdProcess) -> None:
    first = server.get("/api/v2/checks/latest", headers=GZIP)
    assert first.status_code == 200, first.text
    newer = server.wait_for(
        lambda: (
            (
                r := server.get(
                    "/api/v2/checks/latest", headers={**GZIP, "If-None-Match": first.headers["etag"]}
                )
            ).status_code
            == 200
            and r
        )
    )
    assert newer.json()["id"] != first.json()["id"]
    assert newer.headers["etag"] != first.headers["etag"]


def test_a_gzipped_answer_is_tagged_by_its_json_and_304s_stay_small(server: CheckdProcess) -> None:
    latest = server.get("/api/v2/checks/latest", headers=GZIP)
    assert latest.headers.get("content-encoding") == "gzip"  # the dashboard's most frequent read
    assert latest.headers["etag"] == entity_tag(latest.content)  # httpx hands back the inflated bytes
    assert "server" not in latest.headers


def test_errors_html_and_other_methods_carry_no_tag(server: CheckdProcess) -> None:
    assert "etag" not in server.get("/api/v2/checks/999999999").headers
    assert "etag" not in server.get("/").headers
    assert "etag" not in server.get("/api/v2/sampler/", headers=GZIP).headers  # 404: no such path


def test_if_none_match_lists_and_weak_tags() -> None:
    tag = entity_tag(b"[]")
    assert matches(f'"x", {tag}', tag)
    assert matches(f"W/{tag}", tag)
    assert matches("*", tag)
    assert not matches(None, tag)
    assert not matches('"x"', tag)
