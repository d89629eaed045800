// 事项管理: the console's routes for this area (children of the signed-in
// layout). `meta.roles`: any one of them opens the page; the menu entry shows
// only to those roles, and the API refuses the others all the same.
const roles = ["catalogue_editor", "catalogue_reviewer"];

export const menu = { path: "/items", label: "事项管理", roles };

export const routes = [
  { path: "items", component: () => import("./Index.vue"), meta: { title: "事项管理", roles } },
];
