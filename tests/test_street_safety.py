"""Street layers: no server-side fetch and every read bounded (issue 25, items 3 and 4).

A listener on 127.0.0.1 stands for any host a hostile file could name: it must see no request,
whichever way the file arrives (the command line, an upload, or GDAL itself with the checks bypassed).
"""
from __future__ import annotations

import json
import os
import socket
import threading
from pathlib import Path

import pytest

from hotspot_engine.__main__ import main as cli_main
from hotspot_engine.errors import InputError
from hotspot_engine.read import geofile
from hotspot_engine.read.limits import Limits
from hotspot_engine.store import database as store

LINE = [[-1.404, 50.904], [-1.405, 50.905], [-1.406, 50.904]]  # Southampton, inside the districts


@pytest.fixture
def listener():
    """(port, requests seen) of a TCP listener on 127.0.0.1."""
    seen: list[bytes] = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            conn.settimeout(1)
            try:
                seen.append(conn.recv(200))
            except OSError:
                seen.append(b"")
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], seen
    stop.set()
    thread.join(2)
    server.close()


def _geojson(path: Path, crs: dict | None, coordinates=LINE) -> Path:
    collection = {"type": "FeatureCollection",
                  "features": [{"type": "Feature", "properties": {"name": "High Street"},
                                "geometry": {"type": "LineString", "coordinates": coordinates}}]}
    if crs is not None:
        collection["crs"] = crs
    path.write_text(json.dumps(collection), encoding="utf-8")
    return path


def _link(port: int) -> dict:
    return {"type": "link", "properties": {"href": f"http://127.0.0.1:{port}/x", "type": "proj4"}}


def test_crs_link_is_refused_through_the_cli_and_the_upload_with_no_request(listener, tmp_path, capsys):
    from hotspot_engine.service import ingest_street_upload

    port, seen = listener
    path = _geojson(tmp_path / "roads.geojson", _link(port))
    db = tmp_path / "s.duckdb"
    assert cli_main(["ingest", str(path), "--format", "streets", "--db", str(db)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "roads.geojson" in err[0] and "link or URL" in err[0] and str(tmp_path) not in err[0]
    con = store.connect(tmp_path / "u.duckdb")
    try:
        with pytest.raises(InputError, match="link or URL"):
            ingest_street_upload(con, "upload.geojson", path.read_bytes())
    finally:
        con.close()
    assert seen == []


def test_gdal_itself_makes_no_request_while_offline_even_with_no_proxy_set(listener, tmp_path, monkeypatch):
    """Defence in depth: the file check bypassed, GDAL reads the link with its network pointed nowhere
    (and no_proxy, which would let it through, lifted for the read)."""
    import pyogrio

    port, seen = listener
    path = _geojson(tmp_path / "roads.geojson", _link(port))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with geofile.gdal_offline():
        frame = pyogrio.read_dataframe(path)
    assert len(frame) == 1 and os.environ["NO_PROXY"] == "127.0.0.1,localhost"
    assert seen == []
    # ...and without the settings the same read does fetch: the listener is a fair witness.
    pyogrio.read_dataframe(path)
    assert seen, "GDAL did not follow the link at all, so this test could not fail"


@pytest.mark.parametrize("crs", [None, {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
                                 {"type": "name", "properties": {"name": "EPSG:4326"}}])
def test_a_crs_named_by_code_is_read(tmp_path, crs):
    frame, _ = geofile.read_line_layer(_geojson(tmp_path / "roads.geojson", crs))
    assert len(frame) == 1


@pytest.mark.parametrize("crs", [{"type": "name", "properties": {"name": "http://127.0.0.1:9/x"}},
                                 {"type": "link", "properties": {"href": "file:///etc/passwd"}}, "EPSG:4326"])
def test_any_other_crs_is_refused(tmp_path, crs):
    with pytest.raises(InputError, match="roads.geojson: its coordinate system"):
        geofile.check_street_file(_geojson(tmp_path / "roads.geojson", crs))


def test_remote_and_special_paths_and_disguised_files_are_refused(tmp_path):
    for name in ("/vsicurl/http://127.0.0.1:9/roads.gpkg", "http://127.0.0.1:9/roads.geojson"):
        with pytest.raises(InputError, match="only local files"):
            geofile.check_street_file(Path(name))
    with pytest.raises(InputError, match="zero: not a regular file"):
        geofile.check_street_file(Path("/dev/zero"))
    fifo = tmp_path / "roads.geojson"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="roads.geojson: not a regular file"):
        geofile.check_street_file(fifo)  # would wait for ever if opened
    vrt = tmp_path / "roads.gpkg"
    vrt.write_text('<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>/vsicurl/http://127.0.0.1:9/a'
                   "</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>")
    with pytest.raises(InputError, match="roads.gpkg: not a GeoPackage"):
        geofile.check_street_file(vrt)
    prj = tmp_path / "roads.shp"
    prj.write_bytes(b"\x00\x00\x27\x0a" + b"\x00" * 96)
    prj.with_suffix(".prj").write_text('GEOGCS["x",AUTHORITY["http://127.0.0.1:9/a"]]')
    with pytest.raises(InputError, match="roads.prj: the coordinate system is given by a URL"):
        geofile.check_street_file(prj)


def test_size_feature_and_vertex_limits_refuse_with_one_line(tmp_path):
    path = _geojson(tmp_path / "roads.geojson", None)
    with pytest.raises(InputError, match="roads.geojson: .*over the .* limit"):
        geofile.check_street_file(path, Limits(max_geojson_bytes=100))
    with pytest.raises(InputError, match="roads.geojson: 1 features, over the 0 limit"):
        geofile.read_line_layer(path, Limits(max_street_features=0))
    with pytest.raises(InputError, match="roads.geojson: 3 vertices, over the 2 limit"):
        geofile.read_line_layer(path, Limits(max_street_vertices=2))


def test_a_line_with_too_many_vertices_is_rejected_not_clipped(tmp_path):
    from hotspot_engine.store.streets import read_street_file

    zigzag = [[-1.404 + i * 1e-6, 50.904 + (i % 2) * 1e-4] for i in range(20_001)]
    path = tmp_path / "roads.geojson"
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": n}, "geometry": {"type": "LineString", "coordinates": c}}
        for n, c in (("Long Road", zigzag), ("High Street", LINE))]}
    path.write_text(json.dumps(collection))
    lines, rejects = read_street_file(path)
    assert list(lines["name"]) == ["High Street"]
    assert list(rejects["reason"]) == ["too many vertices for one line"]


def test_gdal_warnings_reach_no_output_and_no_server_path(tmp_path, capsys):
    """GDAL's warnings quote the file's full path on the server: they are counted, never printed."""
    feature = {"type": "Feature", "id": 1, "properties": {"name": "High Street"},
               "geometry": {"type": "LineString", "coordinates": LINE}}
    path = tmp_path / "roads.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature, feature]}))  # a repeated id warns
    frame, warned = geofile.read_line_layer(path)
    assert len(frame) == 2 and warned >= 1
    assert cli_main(["ingest", str(path), "--format", "streets", "--db", str(tmp_path / "s.duckdb")]) == 0
    out = capsys.readouterr()
    assert str(tmp_path) not in out.out + out.err and "Several features" not in out.err
