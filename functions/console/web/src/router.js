import { createRouter, createWebHashHistory } from "vue-router";
import { api, setUnauthorizedHandler } from "./api.js";
import { session, setSession, hasRole } from "./session.js";
import Login from "./pages/Login.vue";
import ConsoleLayout from "./ConsoleLayout.vue";
import Home from "./pages/Home.vue";
import { AREAS } from "./areas.js";

const routes = [
  { path: "/login", component: Login, meta: { public: true, title: "登录" } },
  { path: "/enrol/:token", component: () => import("./pages/Enrol.vue"), meta: { public: true, title: "开通账户" } },
  {
    path: "/",
    component: ConsoleLayout,
    children: [
      { path: "", component: Home, meta: { title: "工作台" } },
      ...AREAS.flatMap((a) => a.routes),
      { path: "staff", component: () => import("./pages/Staff.vue"), meta: { title: "员工管理", roles: ["staff_admin"] } },
      { path: "audit", component: () => import("./pages/Audit.vue"), meta: { title: "审计日志", roles: ["auditor"] } },
      { path: "password", component: () => import("./pages/Password.vue"), meta: { title: "修改密码" } },
    ],
  },
  { path: "/:rest(.*)*", redirect: "/" },
];

export const router = createRouter({ history: createWebHashHistory(), routes });

router.beforeEach(async (to) => {
  if (to.meta.public) return true;
  if (!session.me) {
    try {
      setSession(await api("GET", "/v1/staff/me", undefined, { public: true }));
    } catch {
      return { path: "/login", query: to.fullPath !== "/" ? { redirect: to.fullPath } : {} };
    }
  }
  // A page of another role, even by direct URL, goes back to 工作台 (the API refuses its data too).
  // Each level that names roles must be open to one of the user's (a child may narrow its
  // parent). A page refused inside an area the user may open goes to that area's landing page,
  // anything else to 工作台.
  const open = (r) => !r.meta.roles || r.meta.roles.some(hasRole);
  const refused = to.matched.findIndex((r) => !open(r));
  if (refused >= 0) {
    const area = to.matched[refused - 1];
    return { path: refused >= 2 && area.meta.roles && !area.path.includes(":") ? area.path : "/" };
  }
  return true;
});

router.afterEach((to) => {
  document.title = `${to.meta.title ? to.meta.title + " · " : ""}义乌便民 · 后台管理系统`;
});

setUnauthorizedHandler(() => {
  const here = router.currentRoute.value;
  if (!here.meta.public) router.replace({ path: "/login", query: { redirect: here.fullPath, expired: "1" } });
});
