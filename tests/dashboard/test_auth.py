"""Sign-in and roles: password hashes, role resolution, and the Streamlit gate."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import passwords
from core.errors import ConfigError
from dashboard import auth
from dashboard.auth import Role

ROOT = Path(__file__).resolve().parents[2]
SECRET = "secret content"
VIEWER_PW = "blue-harbour-42"
EDITOR_PW = "red-lighthouse-17"
# Cheap hashes keep the suite quick; the format and the check are the real ones.
FAST = {"n": 2**10, "r": 8, "p": 1}

GATE = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
import streamlit as st
from dashboard.auth import can_edit, require_login

role = require_login()
st.write({SECRET!r})
st.write(f"role={{role.value}} can_edit={{can_edit()}}")
"""


@pytest.fixture(scope="module")
def hashes() -> dict[str, str]:
    return {"viewer": passwords.hash_password(VIEWER_PW, **FAST),
            "editor": passwords.hash_password(EDITOR_PW, **FAST)}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in auth.SETTINGS:
        monkeypatch.delenv(name, raising=False)
    # AppTest sessions share one session id: give every test its own throttle.
    monkeypatch.setattr(auth, "THROTTLE", auth.Throttle())
    monkeypatch.setattr(auth, "FAIL_DELAY_S", 0.0)


@pytest.fixture
def gate(tmp_path: Path) -> AppTest:
    script = tmp_path / "gate.py"
    script.write_text(GATE, encoding="utf-8")
    return AppTest.from_file(str(script), default_timeout=30)


def texts(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def sign_in(at: AppTest, password: str) -> AppTest:
    at.text_input(key=auth.PASSWORD_KEY).input(password)
    next(b for b in at.button if b.label == auth.SUBMIT_LABEL).click()
    return at.run()


# --- password hashes -------------------------------------------------------------------


def test_hash_verifies_only_its_password() -> None:
    h = passwords.hash_password(VIEWER_PW, **FAST)
    assert h.startswith("scrypt$1024$8$1$")
    assert passwords.verify_password(VIEWER_PW, h)
    assert not passwords.verify_password(VIEWER_PW + " ", h)
    assert not passwords.verify_password("", h)


def test_same_password_hashes_differently_each_time() -> None:
    a, b = (passwords.hash_password(VIEWER_PW, **FAST) for _ in range(2))
    assert a != b  # random salt
    assert passwords.verify_password(VIEWER_PW, a) and passwords.verify_password(VIEWER_PW, b)


@pytest.mark.parametrize("bad", [
    "", "plaintext-password", "scrypt$1024$8$1$c2FsdA", "bcrypt$1024$8$1$AAAAAAAAAAAA$AAAA",
    "scrypt$abc$8$1$AAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAA",
    "scrypt$1000$8$1$AAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAA",  # n not a power of two
    "scrypt$1073741824$8$1$AAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAA",  # would eat gigabytes
])
def test_malformed_hash_is_a_config_error(bad: str) -> None:
    with pytest.raises(ConfigError):
        passwords.verify_password("anything", bad)


def test_cli_prints_a_hash_of_the_typed_password(capsys: pytest.CaptureFixture[str]) -> None:
    assert passwords.main([], ask=lambda _prompt: VIEWER_PW) == 0
    printed = capsys.readouterr().out.strip()
    assert passwords.verify_password(VIEWER_PW, printed)
    assert VIEWER_PW not in printed


def test_cli_refuses_mismatch_and_short_passwords(capsys: pytest.CaptureFixture[str]) -> None:
    answers = iter([VIEWER_PW, EDITOR_PW])
    assert passwords.main([], ask=lambda _prompt: next(answers)) == 2
    assert passwords.main([], ask=lambda _prompt: "short") == 2
    assert "scrypt$" not in capsys.readouterr().out


# --- configuration and roles (no Streamlit) ----------------------------------------------


def test_no_configuration_makes_the_local_user_an_editor() -> None:
    cfg = auth.load_config({}, {})
    assert cfg.mode == "open"
    assert auth.open_role(cfg) is Role.EDITOR
    assert auth.open_role(auth.load_config({"DYAD_READ_ONLY": "1"}, {})) is Role.VIEWER


def test_passwords_give_their_roles(hashes: dict[str, str]) -> None:
    cfg = auth.load_config({"DYAD_PASSWORD_HASH": hashes["viewer"],
                            "DYAD_EDITOR_PASSWORD_HASH": hashes["editor"]}, {})
    assert cfg.mode == "password"
    assert auth.role_for_password(cfg, VIEWER_PW) is Role.VIEWER
    assert auth.role_for_password(cfg, EDITOR_PW) is Role.EDITOR
    assert auth.role_for_password(cfg, "guess") is None
    assert auth.role_for_password(cfg, "") is None


def test_read_only_caps_the_editor_password(hashes: dict[str, str]) -> None:
    cfg = auth.load_config({"DYAD_EDITOR_PASSWORD_HASH": hashes["editor"],
                            "DYAD_READ_ONLY": "true"}, {})
    assert auth.role_for_password(cfg, EDITOR_PW) is Role.VIEWER


def test_environment_overrides_secrets(hashes: dict[str, str]) -> None:
    secrets = {"DYAD_PASSWORD_HASH": hashes["viewer"]}
    assert auth.load_config({}, secrets).viewer_hash == hashes["viewer"]
    env = {"DYAD_PASSWORD_HASH": hashes["editor"]}
    assert auth.load_config(env, secrets).viewer_hash == hashes["editor"]


def test_malformed_configured_hash_fails_closed() -> None:
    with pytest.raises(ConfigError, match="DYAD_PASSWORD_HASH"):
        auth.load_config({"DYAD_PASSWORD_HASH": "hunter2"}, {})


def test_oidc_section_selects_sign_on_and_lists_providers() -> None:
    secrets = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback",
                        "cookie_secret": "x", "microsoft": {"client_id": "a"},
                        "okta": {"client_id": "b"}}}
    cfg = auth.load_config({"DYAD_EDITORS": " Lead@Example.org ,b@example.org"}, secrets)
    assert cfg.mode == "oidc"
    assert cfg.providers == ("microsoft", "okta")
    assert cfg.editors == {"lead@example.org", "b@example.org"}
    single = auth.load_config({}, {"auth": {"client_id": "a", "cookie_secret": "x"}})
    assert single.providers == (None,)


def test_oidc_roles_follow_editor_and_viewer_lists() -> None:
    cfg = auth.load_config({"DYAD_EDITORS": "lead@example.org",
                            "DYAD_VIEWERS": "@example.org, guest@other.net"},
                           {"auth": {"client_id": "a"}})
    assert auth.role_for_user(cfg, "LEAD@example.org", True) is Role.EDITOR
    assert auth.role_for_user(cfg, "analyst@example.org", True) is Role.VIEWER
    assert auth.role_for_user(cfg, "guest@other.net", None) is Role.VIEWER
    assert auth.role_for_user(cfg, "someone@gmail.com", True) is None
    assert auth.role_for_user(cfg, "someone@example.org.evil.com", True) is None
    assert auth.role_for_user(cfg, None, None) is None
    # An address the provider has not verified opens nothing.
    assert auth.role_for_user(cfg, "lead@example.org", False) is None


def test_oidc_without_viewer_list_lets_any_signed_in_user_view() -> None:
    cfg = auth.load_config({"DYAD_EDITORS": "lead@example.org"}, {"auth": {"client_id": "a"}})
    assert auth.role_for_user(cfg, "anyone@example.com", True) is Role.VIEWER
    ro = auth.load_config({"DYAD_EDITORS": "lead@example.org", "DYAD_READ_ONLY": "1"},
                          {"auth": {"client_id": "a"}})
    assert auth.role_for_user(ro, "lead@example.org", True) is Role.VIEWER


def test_throttle_makes_a_guesser_wait_longer_and_longer() -> None:
    t = auth.Throttle(free=2, base_s=1.0, cap_s=8.0)
    for i in range(2):
        assert t.wait("a", i) == 0
        t.failed("a", i)
    assert t.wait("a", 1.0) > 0  # third try straight after the second failure: wait
    assert t.wait("a", 2.0) == 0
    t.failed("a", 2.0)
    waits = []
    for _ in range(6):
        waits.append(t.wait("a", 2.0))
        t.failed("a", 2.0)
    assert waits == sorted(waits) and waits[-1] == 8.0  # grows, then capped
    assert t.wait("b", 2.0) == 0  # other clients are unaffected
    t.succeeded("a")
    assert t.wait("a", 2.0) == 0


def test_throttle_memory_is_bounded() -> None:
    t = auth.Throttle(max_clients=10)
    for i in range(100):
        t.failed(f"client{i}", 0.0)
    assert len(t._fails) == 10


# --- the Streamlit gate ------------------------------------------------------------------


def test_open_instance_shows_content_to_an_editor(gate: AppTest) -> None:
    at = gate.run()
    assert not at.exception
    assert SECRET in texts(at)
    assert "role=editor can_edit=True" in texts(at)


def test_read_only_instance_has_no_editor(gate: AppTest,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DYAD_READ_ONLY", "1")
    at = gate.run()
    assert "role=viewer can_edit=False" in texts(at)


def test_password_gate_hides_content_until_the_right_password(
        gate: AppTest, monkeypatch: pytest.MonkeyPatch, hashes: dict[str, str]) -> None:
    monkeypatch.setenv("DYAD_PASSWORD_HASH", hashes["viewer"])
    at = gate.run()
    assert not at.exception
    assert SECRET not in texts(at)
    assert at.text_input(key=auth.PASSWORD_KEY).value == ""
    sign_in(at, VIEWER_PW)
    assert not at.exception
    assert SECRET in texts(at)
    assert "role=viewer can_edit=False" in texts(at)
    at.run()  # the session stays signed in
    assert SECRET in texts(at)


def test_wrong_password_shows_an_error_and_no_content(
        gate: AppTest, monkeypatch: pytest.MonkeyPatch, hashes: dict[str, str]) -> None:
    monkeypatch.setenv("DYAD_PASSWORD_HASH", hashes["viewer"])
    at = sign_in(gate.run(), "not-the-password")
    assert SECRET not in texts(at)
    assert [e.value for e in at.error] == [auth.WRONG_PASSWORD]


def test_editor_password_gives_editing_rights(
        gate: AppTest, monkeypatch: pytest.MonkeyPatch, hashes: dict[str, str]) -> None:
    monkeypatch.setenv("DYAD_PASSWORD_HASH", hashes["viewer"])
    monkeypatch.setenv("DYAD_EDITOR_PASSWORD_HASH", hashes["editor"])
    at = sign_in(gate.run(), EDITOR_PW)
    assert "role=editor can_edit=True" in texts(at)


def test_password_from_st_secrets(gate: AppTest, hashes: dict[str, str]) -> None:
    gate.secrets["DYAD_PASSWORD_HASH"] = hashes["viewer"]
    at = gate.run()
    assert SECRET not in texts(at)
    assert SECRET in texts(sign_in(at, VIEWER_PW))


def test_sign_out_hides_content_again(
        gate: AppTest, monkeypatch: pytest.MonkeyPatch, hashes: dict[str, str]) -> None:
    monkeypatch.setenv("DYAD_PASSWORD_HASH", hashes["viewer"])
    at = sign_in(gate.run(), VIEWER_PW)
    assert SECRET in texts(at)
    at.button(key=auth.LOGOUT_KEY).click().run()
    assert SECRET not in texts(at)


def test_changed_password_ends_existing_sessions(
        gate: AppTest, monkeypatch: pytest.MonkeyPatch, hashes: dict[str, str]) -> None:
    monkeypatch.setenv("DYAD_PASSWORD_HASH", hashes["viewer"])
    at = sign_in(gate.run(), VIEWER_PW)
    assert SECRET in texts(at)
    monkeypatch.setenv("DYAD_PASSWORD_HASH", hashes["editor"])
    at.run()
    assert SECRET not in texts(at)


def test_repeated_wrong_passwords_lock_out_even_the_right_one(
        gate: AppTest, monkeypatch: pytest.MonkeyPatch, hashes: dict[str, str]) -> None:
    monkeypatch.setenv("DYAD_PASSWORD_HASH", hashes["viewer"])
    at = gate.run()
    for _ in range(auth.THROTTLE.free):
        at = sign_in(at, "guess")
    at = sign_in(at, VIEWER_PW)
    assert SECRET not in texts(at)
    assert "Too many wrong passwords" in at.error[0].value


def test_malformed_hash_locks_the_gate_with_a_reason(
        gate: AppTest, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DYAD_PASSWORD_HASH", "my-password")
    at = gate.run()
    assert SECRET not in texts(at)
    assert "misconfigured" in at.error[0].value
    assert "my-password" not in at.error[0].value


# --- the single sign-on gate (st.user seeded by AppTest) ---------------------------------

OIDC = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "s" * 32,
        "client_id": "dyad", "client_secret": "x",
        "server_metadata_url": "https://login.example.org/.well-known/openid-configuration"}


@pytest.fixture
def sso(gate: AppTest, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setattr(auth, "_have_authlib", lambda: True)
    monkeypatch.setenv("DYAD_EDITORS", "lead@example.org")
    monkeypatch.setenv("DYAD_VIEWERS", "@example.org")
    gate.secrets["auth"] = OIDC
    return gate


def test_sso_shows_a_sign_in_button_and_no_content(sso: AppTest) -> None:
    sso.user = {"is_logged_in": False}
    at = sso.run()
    assert not at.exception
    assert SECRET not in texts(at)
    assert [b.label for b in at.button] == ["Sign in with your organisation's account"]


def test_sso_editor_and_viewer(sso: AppTest) -> None:
    sso.user = {"is_logged_in": True, "email": "Lead@example.org", "email_verified": True}
    assert "role=editor can_edit=True" in texts(sso.run())
    sso.user = {"is_logged_in": True, "email": "analyst@example.org", "email_verified": True}
    assert "role=viewer can_edit=False" in texts(sso.run())


def test_sso_refuses_an_account_outside_the_viewer_list(sso: AppTest) -> None:
    sso.user = {"is_logged_in": True, "email": "someone@gmail.com", "email_verified": True}
    at = sso.run()
    assert SECRET not in texts(at)
    assert "may not use this instance" in at.error[0].value


def test_sso_without_authlib_fails_closed(gate: AppTest, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    monkeypatch.setattr(auth, "_have_authlib", lambda: False)
    gate.secrets["auth"] = OIDC
    gate.user = {"is_logged_in": True, "email": "lead@example.org"}
    at = gate.run()
    assert SECRET not in texts(at)
    assert "Authlib" in at.error[0].value
