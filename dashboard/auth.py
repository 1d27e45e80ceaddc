"""Optional sign-in and roles, for one instance that a team of analysts shares.

Which gate applies, first match wins:

1. ``[auth]`` in .streamlit/secrets.toml: sign-in through an OpenID Connect
   provider (``st.login``). Editors are the e-mails in DYAD_EDITORS; DYAD_VIEWERS
   (e-mails or ``@domain``) restricts who may view, otherwise anyone the provider
   signs in may.
2. DYAD_PASSWORD_HASH and/or DYAD_EDITOR_PASSWORD_HASH (made with
   ``python -m core.passwords``): a password form. The viewer password gives
   the viewer role, the editor password the editor role.
3. Nothing configured (local use): the single user is an editor.

DYAD_READ_ONLY=1 (public sharing) makes everyone a viewer whatever the gate.
Viewers read, filter and download; editors also upload, rebuild and curate.
Settings come from the environment or from root-level keys of st.secrets (the
environment wins); nothing secret lives in the repository.

The pure parts (config, roles, password check, throttle) take plain mappings so
they are tested without Streamlit; ``require_login`` draws the gate.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

import streamlit as st

from core.errors import ConfigError
from core.passwords import parse_hash, verify_password

ENV_PASSWORD_HASH = "DYAD_PASSWORD_HASH"
ENV_EDITOR_PASSWORD_HASH = "DYAD_EDITOR_PASSWORD_HASH"
ENV_EDITORS = "DYAD_EDITORS"
ENV_VIEWERS = "DYAD_VIEWERS"
ENV_READ_ONLY = "DYAD_READ_ONLY"
SETTINGS = (ENV_PASSWORD_HASH, ENV_EDITOR_PASSWORD_HASH, ENV_EDITORS, ENV_VIEWERS, ENV_READ_ONLY)
_TRUE = {"1", "true", "yes", "on"}

# Widget and session-state keys.
FORM_KEY = "auth_form"
PASSWORD_KEY = "auth_password"
SUBMIT_LABEL = "Sign in"
LOGOUT_KEY = "auth_logout"
LOGIN_KEY_PREFIX = "auth_login_"
_HELD = "_dyad_auth_role"  # (role, config fingerprint) once the password gate is passed
WRONG_PASSWORD = "Wrong password."
FAIL_DELAY_S = 0.5  # each wrong password costs the guesser this much (plus the scrypt)


class Role(StrEnum):
    VIEWER = "viewer"  # read, filter, download
    EDITOR = "editor"  # also upload, rebuild, curate


@dataclass(frozen=True)
class AuthConfig:
    mode: Literal["open", "password", "oidc"]
    read_only: bool = False
    viewer_hash: str | None = None
    editor_hash: str | None = None
    editors: frozenset[str] = frozenset()  # lower-cased e-mails
    viewers: frozenset[str] = frozenset()  # lower-cased e-mails or "@domain"; empty = anyone
    providers: tuple[str | None, ...] = ()  # None is the provider set directly in [auth]

    @property
    def fingerprint(self) -> str:
        """Changes when the passwords change, so a session signed in under old ones ends."""
        text = f"{self.mode}|{self.read_only}|{self.viewer_hash}|{self.editor_hash}"
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


# ---------------------------------------------------------------------------
# Pure parts


def _emails(value: str | None) -> frozenset[str]:
    return frozenset(e.strip().lower() for e in (value or "").split(",") if e.strip())


def settings(env: Mapping[str, str], secrets: Mapping[str, Any]) -> dict[str, str]:
    """DYAD_* settings from root-level secrets, overridden by the environment."""
    out = {k: str(secrets[k]) for k in SETTINGS if isinstance(secrets.get(k), str | int | bool)}
    out.update({k: env[k] for k in SETTINGS if env.get(k)})
    return out


def load_config(env: Mapping[str, str], secrets: Mapping[str, Any]) -> AuthConfig:
    """Which gate applies, from the environment and st.secrets (as plain mappings).

    A malformed password hash raises ConfigError: the gate fails closed and says why.
    """
    s = settings(env, secrets)
    read_only = s.get(ENV_READ_ONLY, "").strip().lower() in _TRUE
    auth = secrets.get("auth")
    if isinstance(auth, Mapping) and auth:
        named = tuple(k for k, v in auth.items() if isinstance(v, Mapping))
        default = (None,) if "client_id" in auth or not named else ()
        return AuthConfig("oidc", read_only, editors=_emails(s.get(ENV_EDITORS)),
                          viewers=_emails(s.get(ENV_VIEWERS)), providers=default + named)
    viewer_hash = s.get(ENV_PASSWORD_HASH, "").strip() or None
    editor_hash = s.get(ENV_EDITOR_PASSWORD_HASH, "").strip() or None
    for name, value in ((ENV_PASSWORD_HASH, viewer_hash), (ENV_EDITOR_PASSWORD_HASH, editor_hash)):
        if value:
            try:
                parse_hash(value)
            except ConfigError as exc:
                raise ConfigError(f"{name}: {exc.reason}") from None
    if viewer_hash or editor_hash:
        return AuthConfig("password", read_only, viewer_hash, editor_hash)
    return AuthConfig("open", read_only)


def _cap(cfg: AuthConfig, role: Role) -> Role:
    return Role.VIEWER if cfg.read_only else role


def open_role(cfg: AuthConfig) -> Role:
    """The role of the single local user when no gate is configured."""
    return _cap(cfg, Role.EDITOR)


def role_for_password(cfg: AuthConfig, password: str) -> Role | None:
    """The role a password opens, or None. Both hashes are always checked (same time)."""
    if not password:
        return None
    editor = bool(cfg.editor_hash) and verify_password(password, cfg.editor_hash or "")
    viewer = bool(cfg.viewer_hash) and verify_password(password, cfg.viewer_hash or "")
    if editor:
        return _cap(cfg, Role.EDITOR)
    return _cap(cfg, Role.VIEWER) if viewer else None


def role_for_user(cfg: AuthConfig, email: str | None,
                  email_verified: bool | None = None) -> Role | None:
    """The role of a user signed in by the identity provider, or None when not allowed.

    An e-mail the provider marks unverified counts as no e-mail: it cannot make
    anyone an editor or pass an allow-list.
    """
    address = (email or "").strip().lower() if email_verified is not False else ""
    if address and address in cfg.editors:
        return _cap(cfg, Role.EDITOR)
    if not cfg.viewers:
        return Role.VIEWER
    domain = "@" + address.rpartition("@")[2] if "@" in address else None
    if address and (address in cfg.viewers or domain in cfg.viewers):
        return Role.VIEWER
    return None


@dataclass
class Throttle:
    """Failed sign-ins per client: a few are free, then each doubles the wait (capped)."""

    free: int = 3
    base_s: float = 2.0
    cap_s: float = 300.0
    max_clients: int = 10_000  # oldest forgotten beyond this: memory stays bounded
    _fails: dict[str, tuple[int, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def wait(self, client: str, now: float) -> float:
        """Seconds before ``client`` may try again (0 when it may now)."""
        with self._lock:
            count, last = self._fails.get(client, (0, 0.0))
        if count < self.free:
            return 0.0
        delay = min(self.cap_s, self.base_s * 2 ** (count - self.free))
        return max(0.0, last + delay - now)

    def failed(self, client: str, now: float) -> None:
        with self._lock:
            count, _ = self._fails.pop(client, (0, 0.0))
            self._fails[client] = (count + 1, now)
            while len(self._fails) > self.max_clients:
                self._fails.pop(next(iter(self._fails)))

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._fails.pop(client, None)


# Shared by every session of the process: a new browser tab does not reset it.
THROTTLE = Throttle()


# ---------------------------------------------------------------------------
# Streamlit


def _secrets() -> Mapping[str, Any]:
    try:
        return st.secrets.to_dict() if st.secrets.load_if_toml_exists() else {}
    except Exception:  # an unreadable secrets.toml is reported by Streamlit itself
        return {}


def config() -> AuthConfig:
    return load_config(os.environ, _secrets())


def _client_key() -> str:
    """Who is guessing: the client's address when known, else this session."""
    try:
        ip = st.context.ip_address
    except Exception:
        ip = None
    if isinstance(ip, str) and ip:
        return f"ip:{ip}"
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return f"session:{ctx.session_id if ctx else 'none'}"


def current_role() -> Role | None:
    """The role of whoever uses this session, or None when nobody is signed in."""
    try:
        cfg = config()
    except ConfigError:
        return None
    if cfg.mode == "open":
        return open_role(cfg)
    if cfg.mode == "oidc":
        if not st.user.get("is_logged_in"):
            return None
        return role_for_user(cfg, st.user.get("email"), st.user.get("email_verified"))
    held = st.session_state.get(_HELD)
    if held and held[1] == cfg.fingerprint:
        return _cap(cfg, Role(held[0]))
    return None


def who() -> str:
    """A name for the corrections log: the signed-in e-mail, else the role or 'local'."""
    try:
        cfg = config()
    except ConfigError:
        return ""
    if cfg.mode == "oidc":
        return str(st.user.get("email") or "")
    if cfg.mode == "open":
        return "local"
    role = current_role()
    return role.value if role else ""


def can_edit() -> bool:
    """Whether this session may upload, rebuild and curate."""
    return current_role() is Role.EDITOR


def _account_box(who: str, role: Role, sign_out: Any) -> None:
    with st.sidebar:
        st.caption(f"Signed in{f' as {who}' if who else ''} · {role.value}")
        if st.button("Sign out", key=LOGOUT_KEY):
            sign_out()


def _password_sign_out() -> None:
    st.session_state.pop(_HELD, None)
    st.rerun()


def _password_gate(cfg: AuthConfig) -> Role:
    role = current_role()
    if role is not None:
        _account_box("", role, _password_sign_out)
        return role
    st.title("Dyad")
    st.caption("This instance is shared: sign in to continue.")
    with st.form(FORM_KEY, clear_on_submit=True):  # the password does not stay in state
        password = st.text_input("Password", type="password", key=PASSWORD_KEY)
        submitted = st.form_submit_button(SUBMIT_LABEL)
    if submitted:
        client, now = _client_key(), time.monotonic()
        wait = THROTTLE.wait(client, now)
        if wait > 0:
            st.error(f"Too many wrong passwords: try again in {math.ceil(wait)} s.")
            st.stop()
        role = role_for_password(cfg, password)
        if role is None:
            THROTTLE.failed(client, now)
            time.sleep(FAIL_DELAY_S)
            st.error(WRONG_PASSWORD)
            st.stop()
        THROTTLE.succeeded(client)
        st.session_state[_HELD] = (role.value, cfg.fingerprint)
        st.rerun()
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises; this keeps type checkers calm


def _have_authlib() -> bool:
    return importlib.util.find_spec("authlib") is not None


def _oidc_gate(cfg: AuthConfig) -> Role:
    if not _have_authlib():  # st.login would fail at the first click: say so up front
        st.error("Sign-in with an identity provider needs Authlib: "
                 "`pip install 'streamlit[auth]'`.")
        st.stop()
    if not st.user.get("is_logged_in"):
        st.title("Dyad")
        st.caption("This instance is shared: sign in to continue.")
        for provider in cfg.providers:
            label = (provider or "your organisation's account").replace("_", " ")
            if st.button(f"Sign in with {label}", key=f"{LOGIN_KEY_PREFIX}{provider or ''}"):
                if provider:
                    st.login(provider)
                else:
                    st.login()
        st.stop()
    email = st.user.get("email")
    role = role_for_user(cfg, email, st.user.get("email_verified"))
    if role is None:
        st.error(f"The account {email or '(no e-mail)'} may not use this instance.")
        if st.button("Sign out", key=LOGOUT_KEY):
            st.logout()
        st.stop()
        raise AssertionError("unreachable")
    _account_box(str(email or st.user.get("name") or ""), role, st.logout)
    return role


def require_login() -> Role:
    """The session's role, after drawing the sign-in form and stopping when needed.

    Call it once, early in the entry script, before anything shows data.
    """
    try:
        cfg = config()
    except ConfigError as exc:  # fail closed: a broken setting must not open the door
        st.error(f"Sign-in is misconfigured: {exc.reason}")
        st.stop()
        raise AssertionError("unreachable") from None
    if cfg.mode == "oidc":
        return _oidc_gate(cfg)
    if cfg.mode == "password":
        return _password_gate(cfg)
    return open_role(cfg)
