// Who is signed in (from POST /v1/staff/login or GET /v1/staff/me), in memory.
import { reactive } from "vue";

export const session = reactive({
  me: null, // { id, name, roles, csrf_token, password_change_due }
  csrf: null,
  passwordDue: false,
});

export function setSession(me) {
  session.me = me;
  session.csrf = me.csrf_token;
  if (me.password_change_due) session.passwordDue = true;
}

export function clearSession() {
  session.me = null;
  session.csrf = null;
  session.passwordDue = false;
}

export const hasRole = (role) => !!session.me?.roles?.includes(role);
