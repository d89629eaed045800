// 预约管理: the console's routes for this area (children of the signed-in
// layout). `meta.roles`: any one of them opens the page; the menu entry shows
// only to those roles, and the API refuses the others all the same.
const roles = ["hall_staff", "calendar_admin"];

export const menu = { path: "/appointments", label: "预约管理", roles };

export const routes = [
  { path: "appointments", component: () => import("./Index.vue"), meta: { title: "预约管理", roles } },
];
