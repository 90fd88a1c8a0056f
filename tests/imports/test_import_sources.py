"""The sources: folders, tar archives, WARC files and RSS/Atom feeds, made here from the
shipped pages (no network), give the same articles as the pages themselves."""

from __future__ import annotations

import gzip
import io
import tarfile
from datetime import datetime
from email.utils import format_datetime
from html import escape

import pytest

pytest.importorskip("trafilatura", reason="pip install 'recommender[import]'")

from pages_helpers import ID_PATTERN, PAGES, PARIS, jaccard, page_files, read_jsonl  # noqa: E402

from recommender.errors import ParameterError  # noqa: E402
from recommender.imports import import_pages  # noqa: E402
from recommender.imports.sources import (  # noqa: E402
    Page, check_sources, kind_of, mirror_url, read_sources,
)

CAPTURED = "2020-07-03T10:43:14Z"


def run(sources, out, **kw):
    kw = {"id_pattern": ID_PATTERN, "zone": PARIS, **kw}
    summary = import_pages([str(s) for s in sources], out, **kw)
    return read_jsonl(out), summary


def url_of(path) -> str:
    return "https://" + path.relative_to(PAGES).as_posix()


# -- files, folders, tar archives -----------------------------------------------------------
def test_mirror_url():
    assert mirror_url("mirror/actu.orange.fr/monde/a-CNT1.html") == \
        "https://actu.orange.fr/monde/a-CNT1.html"
    assert mirror_url("actu.orange.fr/a.html") == "https://actu.orange.fr/a.html"
    assert mirror_url("pages/a.html") == ""
    assert mirror_url("v1.2/a.html") == ""  # not a host: no letters after the last dot
    assert mirror_url("a.html") == ""


def test_kind_of(tmp_path, pages_dir):
    page = page_files()[0]
    assert kind_of(pages_dir) == "folder"
    assert kind_of(page) == "html"
    archive = tmp_path / "p.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(page, arcname="a.html")
    assert kind_of(archive) == "tar"
    (tmp_path / "feed.xml").write_text("<?xml version='1.0'?><rss version='2.0'><channel>"
                                       "</channel></rss>")
    assert kind_of(tmp_path / "feed.xml") == "feed"


def test_folder_reads_html_files_recursively_in_path_order(pages_dir):
    items = list(read_sources(check_sources([pages_dir])))
    pages = [i for i in items if isinstance(i, Page)]
    assert [p.name for p in pages] == [str(p) for p in page_files()]
    assert pages[0].url == url_of(page_files()[0])
    assert sorted(i.name.rsplit("/", 1)[-1] for i in items if not isinstance(i, Page)) == \
        ["README.md", "records.jsonl"]


def test_a_page_without_extension_is_read_by_its_first_bytes(tmp_path):
    source = page_files()[0]
    target = tmp_path / "actu.orange.fr" / "monde" / "page-sans-extension"
    target.parent.mkdir(parents=True)
    target.write_bytes(source.read_bytes())
    (tmp_path / "style.css").write_text("body { color: red }")
    items = list(read_sources(check_sources([tmp_path])))
    assert [type(i).__name__ for i in items] == ["Page", "NotAPage"]  # in path order


def test_a_page_too_large_is_never_read_whole(tmp_path, monkeypatch):
    import recommender.imports.page
    import recommender.imports.sources

    for module in (recommender.imports.page, recommender.imports.sources):
        monkeypatch.setattr(module, "MAX_PAGE_BYTES", 5_000)
    big = tmp_path / "actu.orange.fr" / "big-CNT000000big0.html"
    big.parent.mkdir()
    big.write_bytes(b"<html><body>" + b"<p>x</p>" * 10_000 + b"</body></html>")
    (page,) = read_sources(check_sources([big]))
    assert len(page.data) == 5_001
    with pytest.raises(ParameterError, match=r"skipped 1 pages: 1 larger than 5,000 bytes"):
        run([tmp_path], tmp_path / "out.jsonl")


def test_tar_gz_gives_what_the_folder_gives(tmp_path, imported):
    archive = tmp_path / "pages.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(PAGES / "README.md", arcname="README.md")
        for path in page_files():
            tar.add(path, arcname=path.relative_to(PAGES).as_posix())
        info = tarfile.TarInfo("actu.orange.fr/logo.png")
        data = b"\x89PNG\r\n\x1a\n" + bytes(100)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    records, summary = run([archive], tmp_path / "out.jsonl")
    assert {r["id"]: r for r in records} == imported[0]
    assert (summary.pages, summary.imported, summary.not_html) == (12, 12, 2)


def test_a_truncated_archive_is_one_line(tmp_path):
    archive = tmp_path / "pages.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path in page_files()[:3]:
            tar.add(path, arcname=path.name)
    archive.write_bytes(archive.read_bytes()[:-2000])
    with pytest.raises(ParameterError, match="the tar archive cannot be read to its end"):
        run([archive], tmp_path / "out.jsonl")
    assert not (tmp_path / "out.jsonl").exists()


# -- WARC -----------------------------------------------------------------------------------
def write_warc(path, pages, extra=()):
    """A WARC of ``pages`` ((url, bytes)) as a crawler writes it: a request and a response
    record each, and the ``extra`` responses ((url, status, content type, bytes))."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=str(path).endswith(".gz"))
        for url, data in pages:
            request = StatusAndHeaders("GET / HTTP/1.1", [("Host", "actu.orange.fr")],
                                       is_http_request=True)
            writer.write_record(writer.create_warc_record(
                url, "request", payload=io.BytesIO(b""), length=0, http_headers=request))
            _response(writer, url, "200 OK", "text/html; charset=UTF-8", data)
        for item in extra:
            _response(writer, *item)


def _response(writer, url, status, content_type, data):
    from warcio.statusandheaders import StatusAndHeaders

    headers = StatusAndHeaders(status, [("Content-Type", content_type)], protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(
        url, "response", payload=io.BytesIO(data), length=len(data), http_headers=headers,
        warc_headers_dict={"WARC-Date": CAPTURED}))


def test_warc_gives_what_the_pages_give(tmp_path, imported):
    pages = [(url_of(p), p.read_bytes()) for p in page_files()]
    undated = (b"<html><head><title>Sans date</title></head><body><article><p>Un chapo."
               b"</p><p>" + b"Un texte assez long pour un article. " * 8 +
               b"</p></article></body></html>")
    extra = [
        ("https://actu.orange.fr/logo.png", "200 OK", "image/png", b"\x89PNG" + bytes(50)),
        ("https://actu.orange.fr/monde/gone-CNT000000gone.html", "404 Not Found",
         "text/html", b"<html><body>Introuvable</body></html>"),
        ("https://actu.orange.fr/monde/undated-CNT000000undt.html", "200 OK",
         "text/html", undated),
    ]
    warc = tmp_path / "crawl.warc.gz"
    write_warc(warc, pages, extra)
    assert kind_of(warc) == "warc"
    records, summary = run([warc], tmp_path / "out.jsonl")
    by_id = {r["id"]: r for r in records}
    assert {i: by_id[i] for i in imported[0]} == imported[0]
    # a page that does not say when it was rendered takes the capture's date
    assert by_id["CNT000000undt"]["related_at"] == "2020-07-03T10:43:14+00:00"
    assert summary.pages == 14 and summary.imported == 13 and summary.not_html == 1
    assert summary.skipped == {"HTTP status 404": 1}


def test_not_a_warc_is_one_line(tmp_path):
    bad = tmp_path / "bad.warc"
    bad.write_bytes(b"WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 100\r\n\r\nabc")
    with pytest.raises(ParameterError, match="not a WARC file that can be read"):
        run([bad], tmp_path / "out.jsonl")


# -- RSS and Atom ---------------------------------------------------------------------------
def _items(reference):
    for ref in sorted(reference.values(), key=lambda r: r["id"]):
        paragraphs = [ref["heading"], *ref["body"].split(". ")]
        content = "".join(f"<p>{escape(p)}</p>" for p in paragraphs if p)
        yield ref, datetime.fromisoformat(ref["published"]), content


def write_rss(path, reference):
    items = "".join(
        f"<item><title>{escape(ref['title'])}</title><link>{ref['url']}</link>"
        f"<pubDate>{format_datetime(when)}</pubDate><category>{escape(ref['category'])}"
        f"</category><description>{escape(content)}</description></item>"
        for ref, when, content in _items(reference))
    path.write_text(f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
                    f"<title>Orange Actu</title>{items}</channel></rss>", encoding="utf-8")


def write_atom(path, reference):
    entries = "".join(
        f"<entry><title>{escape(ref['title'])}</title><link href='{ref['url']}'/>"
        f"<id>{ref['url']}</id><published>{when.isoformat()}</published>"
        f"<updated>{when.isoformat()}</updated><category term='{escape(ref['category'])}'/>"
        f"<content type='html'>{escape(content)}</content></entry>"
        for ref, when, content in _items(reference))
    path.write_text(f"<?xml version='1.0' encoding='utf-8'?><feed "
                    f"xmlns='http://www.w3.org/2005/Atom'><title>Orange Actu</title>"
                    f"{entries}</feed>", encoding="utf-8")


@pytest.mark.parametrize("writer, name", [(write_rss, "feed.rss"), (write_atom, "atom.xml")])
def test_feed_items_are_articles(tmp_path, reference, writer, name):
    feed = tmp_path / name
    writer(feed, reference)
    assert kind_of(feed) == "feed"
    shown = datetime.fromisoformat("2020-07-03T12:00:00+02:00")
    records, summary = run([feed], tmp_path / "out.jsonl.gz", shown_at=shown)
    assert summary.imported == len(reference) == 12 and summary.boxes == 0
    for record in records:
        ref = reference[record["id"]]
        assert record["title"] == ref["title"]
        assert datetime.fromisoformat(record["published"]) == \
            datetime.fromisoformat(ref["published"])
        if ref["heading"]:
            assert record["heading"] == ref["heading"]
        assert jaccard(record["body"], ref["body"]) >= 0.9, record["id"]
        assert record["tags"] == [ref["category"]]
        assert record["related"] == [] and record["related_at"] == shown.isoformat()


def test_not_a_feed_is_one_line(tmp_path):
    bad = tmp_path / "feed.rss"
    bad.write_text("<rss version='2.0'><chan")
    with pytest.raises(ParameterError, match="not an RSS or Atom feed that can be read"):
        run([bad], tmp_path / "out.jsonl")


def test_sources_are_checked_before_any_work(tmp_path, pages_dir):
    with pytest.raises(FileNotFoundError, match="^source not found: .*missing.tar.gz$"):
        check_sources([pages_dir, tmp_path / "missing.tar.gz"])
    with pytest.raises(ParameterError, match="no SOURCE given"):
        check_sources([])


def test_gzip_output_is_deterministic(tmp_path):
    first, _ = run([PAGES], tmp_path / "a.jsonl.gz")
    run([PAGES], tmp_path / "b.jsonl.gz")
    assert (tmp_path / "a.jsonl.gz").read_bytes() == (tmp_path / "b.jsonl.gz").read_bytes()
    assert gzip.decompress((tmp_path / "a.jsonl.gz").read_bytes()).count(b"\n") == len(first)
