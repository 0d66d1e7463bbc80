"""Settings resolution: defaults -> TOML file -> environment -> CLI flags; bad values fail loudly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from newswatch.config import Settings, load_settings, parse_interval
from newswatch.errors import ConfigError


def test_precedence(tmp_path: Path) -> None:
    config = tmp_path / "nw.toml"
    config.write_text('db = "sqlite:///file.db"\ntimezone = "UTC"\n[crawl]\ncontact = "ops@example.org"\n')
    settings = load_settings(config, {"NEWSWATCH_DB": "sqlite:///env.db"}, {"db": None})
    assert (settings.db, settings.timezone, settings.crawl.contact) == ("sqlite:///env.db", "UTC", "ops@example.org")
    assert load_settings(config, {"NEWSWATCH_DB": "sqlite:///env.db"}, {"db": "sqlite:///flag.db"}).db == (
        "sqlite:///flag.db"
    )
    assert settings.crawl.full_user_agent == "newswatch/0.1 (+ops@example.org)"


def test_defaults_without_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_settings(None, {}) == Settings()


def test_environment_sections_are_typed() -> None:
    settings = load_settings(None, {"NEWSWATCH_CRAWL_OBEY_ROBOTS": "false", "NEWSWATCH_CRAWL_RETRY_TIMES": "5"})
    assert settings.crawl.obey_robots is False
    assert settings.crawl.retry_times == 5


def test_unrelated_environment_variables_are_ignored() -> None:
    assert load_settings(None, {"NEWSWATCH_TEST_PG_URL": "postgresql://x"}).db == Settings().db


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("dbb = 'x'", "unknown setting 'dbb'"),
        ("[crawl]\nobey_robot = true", "unknown setting 'obey_robot'"),
        ("timezone = 'Mars/Olympus'", "unknown time zone"),
        ("[crawl]\nretry_times = 'many'", "expected int"),
        ("[crawl]\nconcurrent_per_domain = 0", "must be positive"),
        ("default_interval = '5 fortnights'", "invalid interval"),
        ("db = ", "not valid TOML"),
    ],
)
def test_bad_config_is_one_clear_error(tmp_path: Path, toml: str, message: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(toml)
    with pytest.raises(ConfigError, match=message):
        load_settings(config, {})


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(tmp_path / "absent.toml", {})


@pytest.mark.parametrize(("text", "seconds"), [("15s", 15), ("30m", 1800), ("2h", 7200), ("1d", 86400), ("90", 90)])
def test_intervals(text: str, seconds: int) -> None:
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "0s", "-5m", "40d", "5w"])
def test_bad_intervals(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_interval(text)


def test_alerts_channels_and_watch_rules(tmp_path: Path) -> None:
    path = tmp_path / "newswatch.toml"
    path.write_text('[alerts]\nmax_age = "7d"\n[alerts.channels]\nhook = "json://127.0.0.1:9/x"\nscreen = "console"\n'
                    '[[alerts.watch]]\nname = "nghe an"\ntypes = ["conference", "congress"]\nprovinces = ["Nghệ An"]\n',
                    encoding="utf-8")
    settings = load_settings(path, {})
    assert settings.alerts.channels == (("hook", "json://127.0.0.1:9/x"), ("screen", "console"))
    (rule,) = settings.alerts.watch
    assert (rule.name, rule.types, rule.provinces) == ("nghe an", ("conference", "congress"), ("Nghệ An",))
    from_env = load_settings(path, {"NEWSWATCH_ALERTS_CHANNELS": "mail=mailto://a@b.test screen=console"})
    assert from_env.alerts.channels == (("mail", "mailto://a@b.test"), ("screen", "console"))


@pytest.mark.parametrize(("toml", "message"), [
    ('[alerts]\nchannels = "no-equals-sign"', "alerts.channels: expected a table"),
    ("[alerts.channels]\nhook = 3", "alerts.channels: expected a table"),
    ('[[alerts.watch]]\nname = "x"\ntype = ["conference"]', "unknown setting 'type'"),
    ('[[alerts.watch]]\nname = "x"\ntypes = ["party"]', "unknown event types ['party']"),
    ('[[alerts.watch]]\nname = "x"\nprovinces = "Nghệ An"\nkeywords = 3', "expected a list of strings"),
    ('[alerts]\nmax_age = "soon"', "invalid interval 'soon'"),
])
def test_bad_alerts_config_is_one_clear_error(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "newswatch.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(path, {})
