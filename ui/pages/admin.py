"""Admin: accounts and roles (add, change role, reset password, disable). Admins only."""

from __future__ import annotations

import secrets

import streamlit as st

from tutor.auth import AccountError, AccountNameError, Action, PasswordError, Role
from ui import auth


def main() -> None:
    me = auth.require(Action.MANAGE_USERS)
    accounts = auth.get_accounts()
    st.title("Accounts and roles")
    rows = [{"sign-in name": a.username, "shown as": a.display_name, "role": a.role.value,
             "state": "disabled" if a.disabled else "active",
             "sign-in": "password" if a.has_password else "single sign-on", "id": a.id}
            for a in accounts.all()]
    st.dataframe(rows, hide_index=True)

    st.subheader("Add an account")
    with st.form("add-account"):
        name = st.text_input("Sign-in name", key="admin_new_name")
        display = st.text_input("Shown as (optional)", key="admin_new_display")
        role = st.selectbox("Role", [r.value for r in Role], key="admin_new_role")
        add = st.form_submit_button("Add", icon=":material/person_add:")
    if add:
        auth.require(Action.MANAGE_USERS)
        password = secrets.token_urlsafe(12)
        try:
            made = accounts.add(name, password, Role(role), display_name=display or None, must_change_password=True)
        except (AccountError, AccountNameError, PasswordError) as exc:
            st.error(str(exc))
        else:
            st.success(f"Added {made.username} ({made.role.value}). One-time password, shown once: `{password}`")

    st.subheader("Change an account")
    names = [a.username for a in accounts.all()]
    if not names:
        return
    with st.form("change-account"):
        who = st.selectbox("Account", names, key="admin_who")
        new_role = st.selectbox("Role", [r.value for r in Role], key="admin_role")
        c1, c2, c3, c4 = st.columns(4)
        set_role = c1.form_submit_button("Set role")
        reset = c2.form_submit_button("Reset password")
        disable = c3.form_submit_button("Disable")
        enable = c4.form_submit_button("Enable")
    if set_role or reset or disable or enable:
        auth.require(Action.MANAGE_USERS)
        if who == me.username and (disable or (set_role and new_role != Role.ADMIN.value)):
            st.error("You cannot disable yourself or drop your own admin role here; use `tutor users` instead.")
            return
        try:
            if set_role:
                st.success(f"{who} is now {accounts.set_role(who, Role(new_role)).role.value}.")
            elif reset:
                password = secrets.token_urlsafe(12)
                accounts.reset_password(who, password, must_change=True)
                st.success(f"New one-time password for {who}, shown once: `{password}`")
            else:
                accounts.set_disabled(who, bool(disable))
                st.success(f"{who} {'disabled' if disable else 'enabled'}.")
        except AccountError as exc:
            st.error(str(exc))


main()
