import pytest

from seminar import create_app


def test_refuses_to_start_without_secret_key_outside_debug(tmp_path, monkeypatch):
    monkeypatch.delenv("SEMINAR_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_environment_overrides_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("SEMINAR_BASE_URL", "https://seminaire.example.org")
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k", "TESTING": True})
    assert app.config["BASE_URL"] == "https://seminaire.example.org"


def test_instance_config_file_is_read(tmp_path, monkeypatch):
    monkeypatch.setenv("SEMINAR_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("SEMINAR_SECRET_KEY", raising=False)
    (tmp_path / "config.py").write_text("SECRET_KEY = 'from-instance'\nBASE_URL = 'https://x.test'\n")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-instance"
    assert app.config["BASE_URL"] == "https://x.test"


def test_default_database_is_sqlite_in_the_instance_folder_with_wal_and_foreign_keys(tmp_path):
    from sqlalchemy import text

    from seminar.extensions import db

    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k", "TESTING": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'seminar.sqlite'}"
    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        db.engine.dispose()
