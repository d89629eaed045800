// 缴费与发票: the console's routes for this area (children of the signed-in
// layout). `meta.roles`: any one of them opens the page; the menu entry shows
// only to those roles, and the API refuses the others all the same.
const roles = ["billing_operator"];

export const menu = { path: "/billing", label: "缴费与发票", roles };

// One frame (Index.vue: the area's tabs) around four pages.
export const routes = [
  {
    path: "billing",
    component: () => import("./Index.vue"),
    meta: { title: "缴费与发票", roles },
    children: [
      { path: "", redirect: "/billing/reviews" },
      { path: "reviews", component: () => import("./Reviews.vue"), meta: { title: "支付复核", roles } },
      { path: "reconciliation", component: () => import("./Reconciliation.vue"), meta: { title: "对账报告", roles } },
      { path: "invoices", component: () => import("./Invoices.vue"), meta: { title: "发票申请", roles } },
      { path: "ledger", component: () => import("./Ledger.vue"), meta: { title: "票据管理", roles } },
    ],
  },
];
