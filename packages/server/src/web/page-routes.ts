import type { FastifyInstance, FastifyReply } from 'fastify';
import type { BuildStatus } from '@kiln/shared';
import { listBuilds } from '../db/build-queries.js';
import { listPackages, packageDetails } from '../db/package-queries.js';
import { searchFiles } from '../db/search-queries.js';
import type { ServerDeps } from '../http/deps.js';
import { ArchSchema, BuildIdSchema, PackageNameSchema } from '../schemas/common.js';
import type { WebAssets } from './assets.js';
import { PAGE, asPage } from './page-headers.js';
import { STATUSES, buildsPage, type BuildsFilter } from './views/builds-page.js';
import { fileView } from './views/files-table.js';
import { errorPage, page } from './views/layout.js';
import { packagePage, packagesPage } from './views/package-page.js';
import { searchKind, searchPage } from './views/search-page.js';
import { builtArches, neededBy, packageExists, packageHistory, providers, repositories } from './web-queries.js';

type Query = Record<string, string | string[] | undefined>;
const BUILDS_PER_PAGE = 50;

/** One value of a query parameter (the first, when it came twice). */
function one(query: Query, name: string): string | undefined {
  const value = query[name];
  const text = Array.isArray(value) ? value[0] : value;
  return text === undefined || text === '' ? undefined : text;
}

class BadParameter extends Error {}

/** The builds filter from a page's query; a value that is not one gives a 400 page that names it. */
function buildsFilter(query: Query): BuildsFilter {
  const filter: BuildsFilter = {};
  const check = (name: keyof BuildsFilter, ok: (v: string) => boolean, what: string) => {
    const value = one(query, name);
    if (value === undefined) return;
    if (!ok(value)) throw new BadParameter(`${name}: must be ${what}`);
    filter[name] = value;
  };
  check('status', (v) => (STATUSES as readonly string[]).includes(v), `one of ${STATUSES.join(', ')}`);
  check('package', (v) => PackageNameSchema.safeParse(v).success, 'a package name');
  check('arch', (v) => ArchSchema.safeParse(v).success, 'a Debian architecture name');
  check('repo', (v) => v.length <= 2048, 'a repository');
  check('before', (v) => BuildIdSchema.safeParse(v).success, 'a build id');
  return filter;
}

/** The people's pages: builds, packages and search, rendered here from the API's own queries. */
export function pageRoutes(app: FastifyInstance, deps: ServerDeps, assets: WebAssets): void {
  const bad = (reply: FastifyReply, message: string) =>
    asPage(reply, 400).send(errorPage(assets.urls, 'Not a valid request', message));

  app.get<{ Querystring: Query }>('/', PAGE, async (request, reply) => {
    let filter: BuildsFilter;
    try {
      filter = buildsFilter(request.query);
    } catch (err) {
      if (err instanceof BadParameter) return bad(reply, err.message);
      throw err;
    }
    const list = await listBuilds(deps.db, {
      ...filter,
      status: filter.status as BuildStatus | undefined,
      limit: BUILDS_PER_PAGE,
    });
    if (!list) return bad(reply, `before: no build ${filter.before ?? ''}`);
    const body = buildsPage(list, filter, {
      arches: await builtArches(deps.db, deps.arch),
      repos: await repositories(deps.db),
      limit: BUILDS_PER_PAGE,
      now: Date.now(),
    });
    return asPage(reply).send(page({ title: 'Builds', page: 'builds', assets: assets.urls, current: 'builds' }, body));
  });

  app.get<{ Querystring: Query }>('/packages', PAGE, async (request, reply) => {
    const after = one(request.query, 'after');
    if (after !== undefined && !PackageNameSchema.safeParse(after).success)
      return bad(reply, 'after: must be a package name');
    const list = await listPackages(deps.db, { limit: 200, ...(after ? { after } : {}) });
    return asPage(reply).send(
      page(
        { title: 'Packages', page: 'packages', assets: assets.urls, current: 'packages' },
        packagesPage(list, after),
      ),
    );
  });

  app.get<{ Params: { name: string }; Querystring: Query }>('/packages/:name', PAGE, async (request, reply) => {
    const { name } = request.params;
    const history = PackageNameSchema.safeParse(name).success ? await packageHistory(deps.db, name) : [];
    if (history.length === 0) {
      return asPage(reply, 404).send(errorPage(assets.urls, 'No such package', `There is no package ${name}.`));
    }
    const wanted = one(request.query, 'version');
    const version = history.find((v) => v.version === wanted)?.version ?? history[history.length - 1]!.version;
    const details = await packageDetails(deps.db, name, version, deps.arch);
    if (!details) return asPage(reply, 404).send(errorPage(assets.urls, 'No such version', `${name} ${version}`));
    const [from, needers, recent] = await Promise.all([
      providers(deps.db, details.needs),
      neededBy(deps.db, details.provides, name),
      listBuilds(deps.db, { package: name, limit: 10 }),
    ]);
    const body = packagePage(
      {
        name,
        arch: deps.arch,
        history,
        version,
        files: details.files,
        provides: details.provides,
        needs: details.needs.map((soname) => ({ soname, from: from.get(soname) ?? [] })),
        neededBy: needers,
        recent: recent?.builds ?? [],
      },
      fileView(request.query as Record<string, string | undefined>),
      Date.now(),
    );
    return asPage(reply).send(page({ title: name, page: 'package', assets: assets.urls, current: 'packages' }, body));
  });

  app.get<{ Querystring: Query }>('/search', PAGE, async (request, reply) => {
    const q = (one(request.query, 'q') ?? '').trim().slice(0, 4096);
    let result = null;
    if (q) {
      const kind = searchKind(q);
      const term = kind === 'sha256' ? q.toLowerCase() : q;
      const [hits, needs, named] = await Promise.all([
        searchFiles(deps.db, kind, term),
        kind === 'soname' ? searchFiles(deps.db, 'needs', q) : Promise.resolve([]),
        PackageNameSchema.safeParse(q).success ? packageExists(deps.db, q) : Promise.resolve(false),
      ]);
      result = { kind, hits, neededBy: needs, packageNamed: named };
    }
    return asPage(reply).send(
      page(
        { title: q ? `Search: ${q}` : 'Search', page: 'search', assets: assets.urls, search: q, current: 'search' },
        searchPage(q, result),
      ),
    );
  });
}
