// 停水停气: the console's routes for this area (children of the signed-in
// layout). `meta.roles`: any one of them opens the page; the menu entry shows
// only to those roles, and the API refuses the others all the same.
const roles = ["outage_publisher"];

export const menu = { path: "/outages", label: "停水停气", roles };

export const routes = [
  { path: "outages", component: () => import("./Index.vue"), meta: { title: "停水停气", roles } },
];
