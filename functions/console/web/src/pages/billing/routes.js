// 缴费与发票: the console's routes for this area (children of the signed-in
// layout). `meta.roles`: any one of them opens the page; the menu entry shows
// only to those roles, and the API refuses the others all the same.
const roles = ["billing_operator"];

export const menu = { path: "/billing", label: "缴费与发票", roles };

export const routes = [
  { path: "billing", component: () => import("./Index.vue"), meta: { title: "缴费与发票", roles } },
];
