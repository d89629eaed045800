// 投诉与建议: the console's routes for this area (children of the signed-in
// layout). `meta.roles`: any one of them opens the page; the menu entry shows
// only to those roles, and the API refuses the others all the same.
const roles = ["complaint_dispatcher", "complaint_handler"];

export const menu = { path: "/complaints", label: "投诉与建议", roles };

export const routes = [
  { path: "complaints", component: () => import("./Index.vue"), meta: { title: "工单队列", roles } },
  { path: "complaints/stats", component: () => import("./Stats.vue"), meta: { title: "投诉统计", roles } },
  { path: "complaints/:number", component: () => import("./Record.vue"), meta: { title: "工单详情", roles } },
];
