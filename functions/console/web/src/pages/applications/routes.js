// 网上申报: the console's routes for this area (children of the signed-in
// layout). `meta.roles`: any one of them opens the page; the menu entry shows
// only to those roles, and the API refuses the others all the same.
const roles = ["application_handler"];

export const menu = { path: "/applications", label: "网上申报", roles };

// One frame (Index.vue: the area's tabs) around the queue, a record, the 整改 tasks and 统计.
export const routes = [
  {
    path: "applications",
    component: () => import("./Index.vue"),
    meta: { title: "网上申报", roles },
    children: [
      { path: "", component: () => import("./Queue.vue"), meta: { title: "预审队列", roles } },
      { path: "rectifications", component: () => import("./Rectifications.vue"), meta: { title: "整改任务", roles } },
      { path: "stats", component: () => import("./Stats.vue"), meta: { title: "统计", roles } },
      { path: ":number", component: () => import("./Record.vue"), meta: { title: "办件详情", roles } },
    ],
  },
];
