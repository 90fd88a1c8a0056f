"""Every error a client can meet, over HTTP: its status, its one shape, and a message that
names what was wrong (unknown ids 404, bad parameters and bodies 422, bodies and batches
over their limits 413, missing and wrong tokens 401 and 403, routes and methods that do
not exist 404 and 405)."""

from __future__ import annotations

import json
import socket

import pytest

from servers import auth, error_of, sample_records
from recommender.serve.limits import MAX_ARTICLES, MAX_ARTICLES_BYTES, MAX_K, MAX_TEXT_BYTES

TIGER = "CNT000001r4edC"
TEXT = {"title": "Un titre", "body": "Le texte d'un article qui n'est pas dans le modèle."}


# -- unknown ids ------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/articles/NOPE/related", "/articles/NOPE"])
def test_unknown_id_is_404(shared_server, path):
    message = error_of(shared_server.get(path), 404)
    assert "Unknown article id 'NOPE'" in message


def test_unknown_id_with_path_characters_is_only_looked_up(shared_server):
    for article in ("%2e%2e", "..%2Fmanifest.json", "manifest.json", "%00x"):
        response = shared_server.get(f"/articles/{article}/related")
        assert response.status_code == 404, article
        error_of(response, 404)


def test_withdraw_unknown_id_is_404(shared_server):
    message = error_of(shared_server.delete("/articles/NOPE", headers=auth()), 404)
    assert "'NOPE'" in message and "nothing was withdrawn" in message


# -- bad parameters ----------------------------------------------------------------------------
@pytest.mark.parametrize("params, words", [
    ({"k": "0"}, ["k must be an integer from 1 to 100", "'0'"]),
    ({"k": str(MAX_K + 1)}, ["k must be an integer from 1 to 100", "'101'"]),
    ({"k": "five"}, ["k must be", "'five'"]),
    ({"k": "2.5"}, ["k must be", "'2.5'"]),
    ({"max_age": "-3"}, ["max_age must be a positive number of days", "'-3'"]),
    ({"max_age": "soon"}, ["max_age", "'soon'"]),
    ({"max_age": "nan"}, ["max_age", "'nan'"]),
    ({"as_of": "yesterday"}, ["as_of", "'yesterday'", "ISO 8601"]),
    ({"since": "2020-13-45"}, ["since", "ISO 8601"]),
    ({"until": "noon"}, ["until", "'noon'"]),
    ({"since": "2020-08-01", "until": "2020-07-01"}, ["since", "is not before until"]),
    ({"category": "sport-auto"}, ["unknown category 'sport-auto'", "france"]),
    ({"explain": "maybe"}, ["explain must be true or false", "'maybe'"]),
    ({"kk": "3"}, ["unknown query parameter 'kk'", "k, as_of, max_age"]),
    ([("k", "3"), ("k", "4")], ["k is given twice"]),
], ids=lambda value: json.dumps(value) if not isinstance(value, list) else None)
def test_bad_parameter_is_422_and_named(shared_server, params, words):
    for response in (shared_server.get(f"/articles/{TIGER}/related", params=params),
                     shared_server.post("/related", params=params, json=TEXT)):
        message = error_of(response, 422)
        for word in words:
            assert word in message, (word, message)


def test_overlong_id_is_422(shared_server):
    message = error_of(shared_server.get(f"/articles/{'x' * 600}/related"), 422)
    assert "600 characters" in message and "at most 512" in message


# -- bodies ------------------------------------------------------------------------------------
@pytest.mark.parametrize("content, words", [
    (b"", ["the body is empty"]),
    (b"{not json", ["the body is not JSON", "line 1, column 2"]),
    (b"\xff\xfe{}", ["not UTF-8"]),
    (b"[1, 2]", ["must be a JSON object", "got a list"]),
    (b'"text"', ["must be a JSON object", "got a string"]),
    (b"{}", ["none of the text fields"]),
    (b'{"title": "", "body": "  "}', ["the article has no text"]),
    (b'{"title": 3}', ["field 'title' must be a string"]),
    (b'{"title": "a", "published": "last week"}', ["'published'", "'last week'"]),
    (b"[" * 100_000 + b"]" * 100_000, ["cannot be read as JSON"]),
], ids=["empty", "not-json", "not-utf8", "list", "string", "no-text-field", "blank-text",
        "title-number", "bad-date", "deep"])
def test_bad_text_body_is_422(shared_server, content, words):
    response = shared_server.post("/related", content=content,
                                  headers={"content-type": "application/json"})
    message = error_of(response, 422)
    for word in words:
        assert word in message, (word, message)


@pytest.mark.parametrize("body, status, words", [
    ([1], 422, ["an article object", "got a list"]),
    ({"articles": {"id": "a"}}, 422, ["'articles' must be a list", "got an object"]),
    ({"articles": []}, 422, ["'articles' is empty"]),
    ({"title": "no id"}, 422, ["the article: record has no 'id'"]),
    ({"articles": [{"id": "a", "title": "x"}, {"title": "y"}]}, 422,
     ["articles[1]: record has no 'id'"]),
    ({"articles": [{"id": "a", "title": "x"}, {"id": "a", "title": "y"}]}, 422,
     ["articles[1]: id 'a' is also that of articles[0]"]),
    ({"articles": [{"id": "a\u0007", "title": "x"}]}, 422, ["control character"]),
    ({"articles": [{"id": f"n{i}", "title": "x"} for i in range(MAX_ARTICLES + 1)]}, 413,
     [f"{MAX_ARTICLES + 1:,} articles in one request", f"at most {MAX_ARTICLES:,}",
      "split the batch"]),
], ids=["list", "articles-object", "articles-empty", "no-id", "no-id-in-batch", "duplicate",
        "control-char", "batch-too-large"])
def test_bad_articles_body(shared_server, body, status, words):
    before = shared_server.get("/health").json()
    message = error_of(shared_server.post("/articles", json=body, headers=auth()), status)
    for word in words:
        assert word in message, (word, message)
    assert shared_server.get("/health").json()["model"] == before["model"]  # nothing changed


def test_declared_body_too_large_is_413_before_reading(shared_server):
    """A Content-Length over the limit is refused from the headers alone."""
    for path, limit, headers in (("/related", MAX_TEXT_BYTES, ""),
                                 ("/articles", MAX_ARTICLES_BYTES,
                                  "Authorization: Bearer s3cret-token-for-tests\r\n")):
        with socket.create_connection(("127.0.0.1", shared_server.port), timeout=10) as sock:
            sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                         f"\r\n{headers}Content-Length: {limit + 1}\r\n\r\n{{".encode())
            answer = _read_answer(sock)
        assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
        body = json.loads(answer.partition(b"\r\n\r\n")[2])
        assert body["error"]["status"] == 413
        assert f"{limit + 1:,} bytes" in body["error"]["message"]
        assert f"at most {limit:,} bytes" in body["error"]["message"]


def test_streamed_body_too_large_is_413(shared_server):
    """A body without Content-Length (chunked) is counted as it comes."""
    def chunks():
        piece = b" " * 65536
        for _ in range(MAX_TEXT_BYTES // len(piece) + 2):
            yield piece

    response = shared_server.post("/related", content=chunks(),
                                  headers={"content-type": "application/json"})
    message = error_of(response, 413)
    assert f"more than {MAX_TEXT_BYTES:,} bytes" in message


def test_body_at_the_limit_is_read(shared_server, articles_path):
    record = sample_records(articles_path)[0]
    text = {"title": record["title"], "body": record["body"]}
    content = json.dumps(text).encode()
    content += b" " * (MAX_TEXT_BYTES - len(content))
    assert len(content) == MAX_TEXT_BYTES
    assert shared_server.post("/related", content=content).status_code == 200


def _read_answer(sock) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length")))
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


# -- tokens ------------------------------------------------------------------------------------
WRITES = [("post", "/articles", {"json": {"id": "tok", "title": "x"}}),
          ("delete", f"/articles/{TIGER}", {}),
          ("post", "/admin/reload", {})]


@pytest.mark.parametrize("method, path, kwargs", WRITES, ids=["add", "withdraw", "reload"])
def test_write_without_token_is_401(shared_server, method, path, kwargs):
    response = getattr(shared_server, method)(path, **kwargs)
    message = error_of(response, 401)
    assert "Authorization: Bearer TOKEN" in message
    assert response.headers["www-authenticate"] == "Bearer"
    response = getattr(shared_server, method)(path, headers={"Authorization": "Basic abc"},
                                              **kwargs)
    assert "must be 'Bearer TOKEN'" in error_of(response, 401)


@pytest.mark.parametrize("method, path, kwargs", WRITES, ids=["add", "withdraw", "reload"])
def test_write_with_wrong_token_is_403(shared_server, method, path, kwargs):
    for token in ("wrong", "s3cret-token-for-test", "s3cret-token-for-testss"):
        response = getattr(shared_server, method)(path, headers=auth(token), **kwargs)
        assert "wrong token" in error_of(response, 403)
    assert shared_server.get(f"/articles/{TIGER}").status_code == 200  # not withdrawn
    assert shared_server.get("/articles/tok").status_code == 404  # not added


def test_token_is_checked_before_the_body_is_read(shared_server):
    with socket.create_connection(("127.0.0.1", shared_server.port), timeout=10) as sock:
        sock.sendall(b"POST /articles HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
        answer = _read_answer(sock)  # answered without the million bytes
    assert answer.startswith(b"HTTP/1.1 401 ")


# -- routes and methods ------------------------------------------------------------------------
def test_no_route_is_404(shared_server):
    assert "no route GET /nowhere" in error_of(shared_server.get("/nowhere"), 404)


def test_wrong_method_is_405(shared_server):
    response = shared_server.post("/health")
    assert "POST is not allowed on /health" in error_of(response, 405)
    assert "GET" in response.headers["allow"]
