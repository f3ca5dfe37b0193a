from tests.edge.conftest import hls_media, start_nginx  # noqa: F401 (fixtures: real nginx on free ports)
