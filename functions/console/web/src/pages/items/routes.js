// 事项管理: the console's routes for this area (children of the signed-in
// layout). `meta.roles`: any one of them opens the page; the menu entry shows
// only to those roles, and the API refuses the others all the same.
const roles = ["catalogue_editor", "catalogue_reviewer"];

export const menu = { path: "/items", label: "事项管理", roles };

// One frame (Index.vue: the area's tabs) around the pages.
export const routes = [
  {
    path: "items",
    component: () => import("./Index.vue"),
    meta: { title: "事项管理", roles },
    children: [
      { path: "", redirect: "/items/list" },
      { path: "list", component: () => import("./List.vue"), meta: { title: "事项列表", roles } },
      { path: "new", component: () => import("./Edit.vue"), meta: { title: "新增事项", roles: ["catalogue_editor"] } },
      { path: "sync", component: () => import("./Sync.vue"), meta: { title: "事项同步", roles } },
      { path: "taxonomy", component: () => import("./Taxonomy.vue"), meta: { title: "分类与词表", roles } },
      { path: "halls", component: () => import("./Halls.vue"), meta: { title: "地图管理", roles } },
      { path: "search-analytics", component: () => import("./SearchAnalytics.vue"), meta: { title: "搜索分析", roles } },
      { path: ":code/edit", component: () => import("./Edit.vue"), meta: { title: "编辑事项", roles: ["catalogue_editor"] } },
      { path: ":code", component: () => import("./Review.vue"), meta: { title: "事项详情与审核", roles } },
    ],
  },
];
