// A SCIM 2.0 service provider for TestSCIMClientAgainstSCIMMY (scimmy_test.go): Users and Groups
// in memory, parsed, patched and formatted by SCIMMY (npm scimmy 1.x, which no one here wrote),
// served with node's http module. It answers under /scim/v2, requires "Authorization: Bearer
// $SCIM_TOKEN", listens on 127.0.0.1 on a port of the system's choosing, and prints
// "listening <port>" on stdout once it serves. Each request is logged on stderr.
//
// Environment: SCIMMY_DIR, the directory of the scimmy package (…/node_modules/scimmy);
// SCIM_TOKEN, the bearer token to accept.
//
// SCIMMY parses and validates requests (schemas, PatchOp messages, filters), applies PATCH
// operations, and formats resources, lists and errors. What it leaves to the service provider is
// here: storing resources, and so enforcing userName's uniqueness (SCIMMY's User schema declares
// uniqueness "server" but does not check it; the ingress handler below does, as RFC 7643 §4.1.1
// asks, case-insensitively since userName is not caseExact).
import http from "node:http";
import {randomUUID} from "node:crypto";
import {readFileSync} from "node:fs";
import {join} from "node:path";
import {pathToFileURL} from "node:url";

const dir = process.env.SCIMMY_DIR;
const token = process.env.SCIM_TOKEN;
if (!dir || !token) {
    console.error("scimmy-sp: SCIMMY_DIR and SCIM_TOKEN are required");
    process.exit(2);
}
// The package's ESM entry point, as its package.json exports it.
const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
const entry = pkg.exports?.["."]?.import?.default ?? pkg.main;
const {default: SCIMMY} = await import(pathToFileURL(join(dir, entry)).href);

const base = "/scim/v2";
const users = new Map();  // id -> stored User (plain object)
const groups = new Map(); // id -> stored Group (plain object)

const plain = (instance) => JSON.parse(JSON.stringify(instance));
const notFound = (kind, id) => new SCIMMY.Types.Error(404, null, `${kind} ${id} not found`);

// Stores what ingress is given (a SCIMMY schema instance, already validated), keeping the id and
// creation time of an existing resource.
function store(map, kind, resource, instance) {
    const now = new Date().toISOString();
    const data = plain(instance);
    delete data.meta;
    if (resource.id) {
        const old = map.get(resource.id);
        if (!old) throw notFound(kind, resource.id);
        const next = {...data, id: resource.id, meta: {created: old.meta.created, lastModified: now}};
        map.set(resource.id, next);
        return next;
    }
    const next = {...data, id: randomUUID(), meta: {created: now, lastModified: now}};
    map.set(next.id, next);
    return next;
}

// Egress: one resource by id, or those the request's filter matches (SCIMMY's Filter evaluates it;
// ListResponse, built by SCIMMY around the list, applies startIndex and count).
function list(map, kind, resource) {
    if (resource.id) {
        const r = map.get(resource.id);
        if (!r) throw notFound(kind, resource.id);
        return r;
    }
    const all = [...map.values()];
    return resource.filter ? resource.filter.match(all) : all;
}

SCIMMY.Resources.declare(SCIMMY.Resources.User, {
    ingress: (resource, instance) => {
        const name = String(instance.userName).toLowerCase();
        for (const u of users.values()) {
            if (u.id !== resource.id && String(u.userName).toLowerCase() === name) {
                throw new SCIMMY.Types.Error(409, "uniqueness", `userName ${instance.userName} is already taken`);
            }
        }
        return store(users, "User", resource, instance);
    },
    egress: (resource) => list(users, "User", resource),
    degress: (resource) => {
        if (!users.delete(resource.id)) throw notFound("User", resource.id);
        // A deleted user leaves the groups it was a member of.
        for (const g of groups.values()) {
            if (g.members) g.members = g.members.filter((m) => m.value !== resource.id);
        }
    },
});

SCIMMY.Resources.declare(SCIMMY.Resources.Group, {
    ingress: (resource, instance) => {
        // Members must be users of this service provider, named by id.
        for (const m of instance.members ?? []) {
            if (!users.has(m.value)) throw new SCIMMY.Types.Error(400, "invalidValue", `member ${m.value} is not a user here`);
        }
        return store(groups, "Group", resource, instance);
    },
    egress: (resource) => list(groups, "Group", resource),
    degress: (resource) => {
        if (!groups.delete(resource.id)) throw notFound("Group", resource.id);
    },
});

SCIMMY.Config.set({
    patch: true,
    filter: 100,
    authenticationSchemes: [{type: "oauthbearertoken", name: "OAuth Bearer Token", description: "A bearer token in the Authorization header"}],
});

// The query parameters SCIMMY's Resource constructor reads; startIndex and count are numbers.
function params(query) {
    const out = {};
    for (const k of ["filter", "attributes", "excludedAttributes", "sortBy", "sortOrder"]) {
        if (query.has(k)) out[k] = query.get(k);
    }
    for (const k of ["startIndex", "count"]) {
        if (query.has(k)) {
            const n = Number(query.get(k));
            if (!Number.isInteger(n)) throw new SCIMMY.Types.Error(400, "invalidValue", `${k} is not an integer`);
            out[k] = n;
        }
    }
    return out;
}

async function body(req) {
    const chunks = [];
    let size = 0;
    for await (const c of req) {
        size += c.length;
        if (size > 1 << 20) throw new SCIMMY.Types.Error(413, "tooMany", "request body over 1 MiB");
        chunks.push(c);
    }
    const text = Buffer.concat(chunks).toString("utf8");
    if (!text.trim()) return undefined;
    try {
        return JSON.parse(text);
    } catch (ex) {
        throw new SCIMMY.Types.Error(400, "invalidSyntax", `request body is not JSON: ${ex.message}`);
    }
}

// handle answers [status, body, headers] for one request.
async function handle(req, url) {
    if (req.headers.authorization !== `Bearer ${token}`) {
        return [401, new SCIMMY.Messages.Error({status: 401, detail: "bearer token missing or not accepted"}), {"WWW-Authenticate": "Bearer"}];
    }
    if (!url.pathname.startsWith(base + "/")) throw notFound("path", url.pathname);
    const [type, id, ...rest] = url.pathname.slice(base.length + 1).split("/").map(decodeURIComponent);
    if (rest.length) throw notFound("path", url.pathname);
    const method = req.method;
    switch (type) {
        case "ServiceProviderConfig":
            if (method === "GET" && !id) return [200, await new SCIMMY.Resources.ServiceProviderConfig().read()];
            break;
        case "ResourceTypes":
            if (method === "GET") return [200, await (id ? new SCIMMY.Resources.ResourceType(id) : new SCIMMY.Resources.ResourceType()).read()];
            break;
        case "Schemas":
            if (method === "GET") return [200, await (id ? new SCIMMY.Resources.Schema(id) : new SCIMMY.Resources.Schema()).read()];
            break;
        case "Users":
        case "Groups": {
            const R = type === "Users" ? SCIMMY.Resources.User : SCIMMY.Resources.Group;
            const p = params(url.searchParams);
            if (!id) {
                if (method === "GET") return [200, await new R(p).read()];
                if (method === "POST") {
                    const created = await new R(p).write(await body(req));
                    return [201, created, {Location: created.meta.location}];
                }
                break;
            }
            switch (method) {
                case "GET":
                    return [200, await new R(id, p).read()];
                case "PUT":
                    return [200, await new R(id, p).write(await body(req))];
                case "PATCH": {
                    // SCIMMY answers nothing when the operations changed nothing: 204 then
                    // (RFC 7644 §3.5.2 allows 204 for any successful PATCH).
                    const patched = await new R(id, p).patch(await body(req));
                    return patched ? [200, patched] : [204];
                }
                case "DELETE":
                    await new R(id).dispose();
                    return [204];
            }
            break;
        }
        default:
            throw notFound("path", url.pathname);
    }
    // RFC 7644 §3.12 lists no 405; SCIMMY's ErrorResponse accepts only the statuses it lists.
    return [501, new SCIMMY.Messages.Error({status: 501, detail: `${method} ${url.pathname} is not implemented`})];
}

const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    let status, out, headers;
    try {
        [status, out, headers] = await handle(req, url);
    } catch (ex) {
        // SCIMMY's errors carry their status and scimType; anything else is a 500.
        const err = ex instanceof SCIMMY.Types.Error ? ex : new SCIMMY.Types.Error(500, null, String(ex?.stack ?? ex));
        try {
            out = new SCIMMY.Messages.Error(err);
        } catch (bad) { // a status or scimType RFC 7644 §3.12 does not list
            out = new SCIMMY.Messages.Error({status: 500, detail: `${err.status} ${err.scimType ?? ""} ${err.message} (${bad.message})`});
        }
        status = Number(out.status);
    }
    const text = out === undefined ? "" : JSON.stringify(out);
    console.error(`${req.method} ${url.pathname}${url.search} -> ${status}${status >= 400 ? " " + text : ""}`);
    res.writeHead(status, {...(text ? {"Content-Type": "application/scim+json"} : {}), ...(headers ?? {})});
    res.end(text);
});

server.listen(0, "127.0.0.1", () => {
    // meta.location is the full URI of a resource (RFC 7643 §3.1): the base URL is known now.
    const url = `http://127.0.0.1:${server.address().port}${base}`;
    for (const R of [SCIMMY.Resources.User, SCIMMY.Resources.Group, SCIMMY.Resources.ServiceProviderConfig,
        SCIMMY.Resources.ResourceType, SCIMMY.Resources.Schema]) R.basepath(url);
    console.log(`listening ${server.address().port}`);
});
