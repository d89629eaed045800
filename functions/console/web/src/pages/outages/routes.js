// 停水停气: the console's routes for this area (children of the signed-in
// layout). `meta.roles`: any one of them opens the page; the menu entry shows
// only to those roles, and the API refuses the others all the same. The
// auditor sees the list and the delivery (read only); only outage_publisher
// composes, amends and cancels.
const roles = ["outage_publisher", "auditor"];
const publisher = ["outage_publisher"];

export const menu = { path: "/outages", label: "停水停气", roles };

export const routes = [
  { path: "outages", component: () => import("./Index.vue"), meta: { title: "停水停气", roles } },
  { path: "outages/new", component: () => import("./Compose.vue"), meta: { title: "发布停水停气通知", roles: publisher } },
  { path: "outages/:id/amend", component: () => import("./Compose.vue"), meta: { title: "更改停水停气通知", roles: publisher } },
  { path: "outages/:id", component: () => import("./Delivery.vue"), meta: { title: "发送进度", roles } },
];
