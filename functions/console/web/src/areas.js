// The work areas, in menu order: each brings its routes and its menu entry
// (pages/<area>/routes.js), so an area's pages live in its own folder.
import * as items from "./pages/items/routes.js";
import * as appointments from "./pages/appointments/routes.js";
import * as complaints from "./pages/complaints/routes.js";
import * as applications from "./pages/applications/routes.js";
import * as outages from "./pages/outages/routes.js";
import * as billing from "./pages/billing/routes.js";

export const AREAS = [items, appointments, complaints, applications, outages, billing];
