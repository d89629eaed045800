// 预约管理: the console's routes for this area (children of the signed-in
// layout). `meta.roles`: any one of them opens the page; the menu entry shows
// only to those roles, and the API refuses the others all the same.
// 日视图, 统计 and 资源与时段 are a hall's own (hall_staff, scoped by hall);
// 节假日与调休 is read by both and changed by calendar_admin.
import { hasRole } from "../../session.js";

const roles = ["hall_staff", "calendar_admin"];
const hall = ["hall_staff"];
// The layout's guard lets in anyone holding one of the parent's roles too, so a
// hall's own page sends a calendar_admin without hall_staff to the calendar.
const hallOnly = () => hasRole("hall_staff") || "/appointments/calendar";

export const menu = { path: "/appointments", label: "预约管理", roles };

export const routes = [
  {
    path: "appointments",
    component: () => import("./Index.vue"),
    meta: { title: "预约管理", roles },
    children: [
      // After the global guard has loaded the session (a redirect would run before it).
      { path: "", component: { render: () => null }, beforeEnter: () => (hasRole("hall_staff") ? "/appointments/day" : "/appointments/calendar") },
      { path: "day", component: () => import("./Day.vue"), beforeEnter: hallOnly, meta: { title: "预约日视图", roles: hall } },
      { path: "stats", component: () => import("./Stats.vue"), beforeEnter: hallOnly, meta: { title: "预约统计", roles: hall } },
      { path: "resources", component: () => import("./Resources.vue"), beforeEnter: hallOnly, meta: { title: "资源与时段", roles: hall } },
      { path: "calendar", component: () => import("./Calendar.vue"), meta: { title: "节假日与调休", roles } },
    ],
  },
];
