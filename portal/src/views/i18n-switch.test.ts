import type { ConfigItemView } from '@common/config-items';
import type { ImageRepositoryView } from '@common/images';
import type { SecurityGroup, SpaceNetworkView } from '@common/network';
import type { VdcView } from '@common/tenancy';
import type { VolumeView } from '@common/volumes';
import type { WorkloadDetail, WorkloadSummary } from '@common/workload-ops';
import { flushPromises, mount } from '@vue/test-utils';
import ElementPlus from 'element-plus';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Component } from 'vue';
import { createMemoryHistory, createRouter } from 'vue-router';
import { transport } from '../api/http.ts';
import type { ImageCategory } from '../api/images.ts';
import { i18n } from '../locales/index.ts';
import { routes } from '../router/index.ts';
import { useSessionStore } from '../stores/session.ts';
import Delegations from './approvals/Delegations.vue';
import Inbox from './approvals/Inbox.vue';
import VdcDashboard from './dashboard/VdcDashboard.vue';
import ConfigCenter from './config/ConfigCenter.vue';
import Finance from './finance/Finance.vue';
import Images from './images/Images.vue';
import SecurityGroups from './network/SecurityGroups.vue';
import NewRequest from './tickets/NewRequest.vue';
import Volumes from './volumes/Volumes.vue';
import WorkloadDetailView from './workloads/WorkloadDetail.vue';
import Workloads from './workloads/Workloads.vue';

/**
 * Every main view of the portal re-renders its labels when the language changes: mounted in English,
 * switched to 简体中文, the English labels are gone and the Chinese ones are shown (no reload). For the
 * day-2 views (workloads, security groups, volumes, config center, images) no English message of the view's
 * own locale namespaces is left on the page after the switch. Every locale file has the same keys (and the
 * same placeholders) in both languages.
 */

const NOW = new Date();
const TICKET = {
  id: 'tkt-1-abcdef',
  type: 'quota-change',
  status: 'pending_approval',
  requester: { sub: 'u-tenant', name: 'Tina Tenant' },
  vdcId: 'demo',
  vdcName: 'demo',
  domainId: 'd1',
  payload: { type: 'quota-change', vdcId: 'demo', quota: { cpu: 6 } },
  policy: { version: 'p1', outcome: 'approval', reason: 'over the auto-approve limit', chain: [{ step: 0, role: 'vdc-admin', label: 'VDC admin' }] },
  approvals: [{ step: 0, role: 'vdc-admin', deadline: new Date(NOW.getTime() + 3_600_000 * 5).toISOString() }],
  currentStep: 0,
  preview: {
    hash: 'h',
    namespace: 'vdc-demo',
    current: { cpu: 4 },
    used: { cpu: 1, memoryGi: 2, pods: 3 },
    requested: { cpu: 6 },
    diff: [],
    checkedAt: NOW.toISOString(),
  },
  createdAt: NOW.toISOString(),
  updatedAt: NOW.toISOString(),
  canDecide: true,
};

const ISO = NOW.toISOString();
const DIGEST = (c: string): string => `sha256:${c.repeat(64)}`;
const VDC_VIEW = {
  id: 'demo',
  name: 'demo',
  domainId: 'd1',
  namespace: 'vdc-demo',
  namespaceStatus: 'active',
  pool: 'edge',
  quota: { cpu: 4, memoryGi: 8, pods: 20 },
  pools: [{ pool: 'edge', namespace: 'vdc-demo', quota: { cpu: 4, memoryGi: 8, pods: 20 } }],
  spaces: [{ name: 'blue', namespace: 'vdc-demo-blue', status: 'active', ticketId: 'tkt-0-aaaaaa', createdAt: ISO }],
  membersCount: 2,
  labels: {},
} satisfies VdcView;
const WORKLOAD = {
  namespace: 'vdc-demo',
  name: 'shop',
  kind: 'Deployment',
  status: 'available',
  statusDetail: '1/1 ready',
  replicas: { ready: 1, desired: 1 },
  images: ['registry.local/vdc-demo/shop:2'],
  revision: 2,
  access: [{ kind: 'ClusterIP', address: '10.96.0.10:80' }],
  ticketId: 'tkt-2-abcdef',
  updatedAt: ISO,
} satisfies WorkloadSummary;
const WORKLOAD_DETAIL = {
  ...WORKLOAD,
  pods: [{ name: 'shop-7d9c-x2k4p', node: 'edge-1', phase: 'Running', restarts: 0, ip: '10.0.0.5', containers: ['app'], startedAt: ISO }],
  events: [{ type: 'Normal', reason: 'ScalingReplicaSet', message: 'scaled up replica set shop-7d9c to 1', object: 'Deployment/shop', count: 1, lastAt: ISO }],
  revisions: [
    {
      revision: 2,
      ticketId: 'tkt-2-abcdef',
      at: ISO,
      current: true,
      images: ['registry.local/vdc-demo/shop:2'],
      changes: ['containers.0.image: "shop:1" → "shop:2"'],
    },
    { revision: 1, ticketId: 'tkt-1-abcdef', at: ISO, current: false, images: ['registry.local/vdc-demo/shop:1'], changes: [] },
  ],
  operations: [{ id: 'op-1', op: 'scale', at: ISO, actor: { sub: 'u-tenant', name: 'Tina Tenant' }, via: 'direct', changes: ['replicas: 2 → 1'] }],
  env: [
    { container: 'app', name: 'MODE', value: 'prod' },
    { container: 'app', name: 'DB_PASSWORD', secretRef: { name: 'shop-db', key: 'password' } },
  ],
  spec: { replicas: 1, service: { type: 'ClusterIP', port: 80 } },
  scheduling: { nodeSelector: {}, affinity: [] },
  security: [{ container: 'app', settings: {} }],
} satisfies WorkloadDetail;
const GROUPS = [
  {
    id: 'sg-web',
    vdcId: 'demo',
    name: 'web',
    description: 'shop front end',
    rules: [{ direction: 'in', protocol: 'TCP', port: 80, peer: { kind: 'cidr', cidr: '10.0.0.0/8' } }],
    members: [{ namespace: 'vdc-demo', name: 'shop' }],
    revision: 1,
    createdAt: ISO,
    updatedAt: ISO,
  },
] satisfies SecurityGroup[];
const SPACE_DEFAULTS = [{ space: 'blue', namespace: 'vdc-demo-blue', policy: 'deny-other-spaces' }] satisfies SpaceNetworkView[];
const VOLUMES = [
  { namespace: 'vdc-demo', name: 'data', managedBy: 'volume', size: '1Gi', accessMode: 'ReadWriteOnce', phase: 'Bound', capacity: '1Gi', mountedBy: [] },
  {
    namespace: 'vdc-demo-blue',
    name: 'db-data',
    managedBy: 'workload',
    owner: 'db',
    size: '2Gi',
    accessMode: 'ReadWriteOnce',
    storageClass: 'local-path',
    phase: 'Bound',
    capacity: '2Gi',
    mountedBy: ['workload db'],
  },
] satisfies VolumeView[];
const CONFIG: Record<'configmaps' | 'secrets', ConfigItemView[]> = {
  configmaps: [
    {
      kind: 'ConfigMap',
      name: 'shop-config',
      vdcId: 'demo',
      namespace: 'vdc-demo',
      keys: [{ key: 'app.yaml', size: 120, value: 'port: 80' }],
      createdAt: ISO,
      updatedAt: ISO,
      updatedBy: { sub: 'u-tenant', name: 'Tina Tenant' },
    },
  ],
  secrets: [
    {
      kind: 'Secret',
      name: 'shop-db',
      vdcId: 'demo',
      namespace: 'vdc-demo',
      type: 'opaque',
      keys: [{ key: 'password', size: 9 }],
      createdAt: ISO,
      updatedAt: ISO,
      updatedBy: { sub: 'u-tenant', name: 'Tina Tenant' },
    },
  ],
};
const tagOf = (tag: string, c: string, severity: string | null, signed: boolean) => ({
  tag,
  digest: DIGEST(c),
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  multiArch: false,
  size: 52_428_800,
  platforms: [{ os: 'linux', architecture: 'amd64', digest: DIGEST(c), size: 52_428_800 }],
  created: ISO,
  pushedAt: null,
  signed,
  scan: severity ? { severity, counts: severity === 'None' ? {} : { [severity]: 1 }, scannedAt: ISO, findings: severity === 'None' ? 0 : 1 } : null,
});
const IMAGES = [
  { name: 'library/nginx', visibility: 'public', vdcId: null, pullRef: 'registry.local/library/nginx', tags: [tagOf('1.27', 'a', 'None', true)] },
  {
    name: 'vdc-demo/api',
    visibility: 'private',
    vdcId: 'demo',
    pullRef: 'registry.local/vdc-demo/api',
    tags: [tagOf('v1', 'b', 'Critical', false), tagOf('v0', 'c', null, false)],
  },
  { name: 'staging-demo/web', visibility: 'staging', vdcId: 'demo', pullRef: 'registry.local/staging-demo/web', tags: [tagOf('v2', 'd', 'Medium', false)] },
] satisfies ImageRepositoryView[];
const CATEGORIES = [{ id: 'cat-web', name: 'Web servers', vdcId: null, repositories: ['library/nginx'] }] satisfies ImageCategory[];

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

/** The day-2 views show their write actions (and so those labels) only to users holding these. */
const DAY2_PERMISSIONS = ['vdc:read', 'workload:read', 'workload:operate', 'network:write', 'volume:write', 'config:read', 'config:write', 'ticket:create'];

const originalFetch = transport.fetch;

function serve(): void {
  transport.fetch = vi.fn<typeof fetch>(async (input) => {
    const url = String(input);
    if (url === '/api/me')
      return json(200, {
        sub: 'u-vdcadmin',
        name: 'Victor',
        email: '',
        username: 'vdcadmin',
        bindings: [],
        permissions: ['ticket:decide', 'report:read', ...DAY2_PERMISSIONS],
      });
    if (url === '/api/vdcs')
      return json(200, { items: [{ id: 'demo', name: 'demo', domainId: 'd1', namespace: 'vdc-demo', quota: { cpu: 4, memoryGi: 8, pods: 20 } }] });
    if (url === '/api/vdcs/demo') return json(200, VDC_VIEW);
    if (url.startsWith('/api/vdcs/demo/workloads/vdc-demo/shop')) return json(200, WORKLOAD_DETAIL);
    if (url.startsWith('/api/vdcs/demo/workloads')) return json(200, { items: [WORKLOAD] });
    if (url === '/api/vdcs/demo/security-groups') return json(200, { items: GROUPS });
    if (url === '/api/vdcs/demo/security-groups/sg-web/policies') return json(200, { items: [] });
    if (url === '/api/vdcs/demo/network-defaults') return json(200, { items: SPACE_DEFAULTS });
    if (url === '/api/vdcs/demo/volumes') return json(200, { items: VOLUMES });
    if (url === '/api/vdcs/demo/configmaps' || url === '/api/vdcs/demo/secrets')
      return json(200, { items: CONFIG[url.endsWith('secrets') ? 'secrets' : 'configmaps'] });
    if (url === '/api/images/categories') return json(200, { items: CATEGORIES });
    if (url.startsWith('/api/images')) return json(200, { items: IMAGES });
    if (url.startsWith('/api/tickets')) return json(200, { items: [TICKET] });
    if (url.startsWith('/api/reports/'))
      return json(200, {
        kind: 'chargeback',
        invoices: [],
        period: { from: '', to: '' },
        asOf: NOW.toISOString(),
        priceBookVersions: [1],
        rounding: '',
        totals: { CNY: '12.50' },
      });
    if (url === '/api/pricebook') return json(200, { items: [] });
    if (url === '/api/delegations') return json(200, { items: [] });
    if (url === '/api/domains') return json(200, { items: [] });
    return json(403, { type: 'about:blank', title: 'Forbidden', status: 403 });
  });
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) {
    await flushPromises();
    await new Promise((r) => setTimeout(r, 0));
  }
}

interface ViewCase {
  name: string;
  component: Component;
  path: string;
  en: string[];
  zh: string[];
  /** Locale namespaces the view renders; none of their English-only messages may remain after the switch. */
  namespaces?: string[];
  /** Brings hidden parts into view after mounting (e.g. expands table rows). */
  prepare?: () => Promise<void>;
}

const VIEWS: ViewCase[] = [
  {
    name: 'dashboard',
    component: VdcDashboard,
    path: '/dashboard',
    en: ['VDC dashboard', 'Quota and usage', 'Open tickets', 'Recent activity'],
    zh: ['虚拟数据中心概览', '配额与用量', '未完成工单', '最近动态'],
  },
  {
    name: 'new request (quota)',
    component: NewRequest,
    path: '/tickets/new',
    en: ['Request a quota change', 'Submit request', 'Deploy workload'],
    zh: ['提交申请', '部署工作负载'],
  },
  {
    name: 'new request (workload)',
    component: NewRequest,
    path: '/tickets/new/workload-deploy',
    en: ['Deploy or upgrade a workload', 'Preview request', 'Main container', 'Image'],
    zh: ['部署或升级工作负载', '预览工单', '主容器', '镜像'],
  },
  {
    name: 'new request (node join)',
    component: NewRequest,
    path: '/tickets/new/node-join',
    en: ['Join an edge node', 'Resource pool', 'Join token lifetime'],
    zh: ['边缘节点接入', '资源池', '接入令牌有效期'],
  },
  { name: 'inbox', component: Inbox, path: '/approvals', en: ['Approvals inbox', 'SLA deadline', 'left'], zh: ['待我审批', 'SLA 截止时间', '剩余'] },
  {
    name: 'delegations',
    component: Delegations,
    path: '/approvals/delegations',
    en: ['Delegations', 'Save delegation', 'Your delegations'],
    zh: ['审批委托', '保存委托', '我的委托'],
  },
  {
    name: 'finance',
    component: Finance,
    path: '/finance',
    en: ['Finance', 'Reports', 'Price book', 'Cost by VDC'],
    zh: ['财务', '报表', '价格表', '按虚拟数据中心统计费用'],
  },
  {
    name: 'workloads list',
    component: Workloads,
    path: '/workloads?vdc=demo',
    en: ['Workloads', 'Replicas', 'Created by', 'Available', 'Scale', 'Restart'],
    zh: ['工作负载', '副本', '创建工单', '可用', '伸缩', '重启'],
    namespaces: ['workloads', 'common'],
  },
  {
    name: 'workload detail',
    component: WorkloadDetailView,
    path: '/workloads/demo/vdc-demo/shop',
    en: ['Back to workloads', 'Pods', 'Events', 'Revisions', 'Environment', 'Scheduling & security', 'First revision', 'Secret shop-db / password'],
    zh: ['返回工作负载列表', '容器组', '事件', '版本记录', '环境变量', '调度与安全'],
    namespaces: ['workloads', 'common'],
  },
  {
    name: 'security groups',
    component: SecurityGroups,
    path: '/network/security-groups',
    en: ['Security groups', 'Default policy per application space', 'Deny from other spaces', 'Rendered policies', 'Inbound', 'Add rule'],
    zh: ['安全组', '各应用空间的默认策略', '拒绝来自其他空间的流量', '生成的策略', '入站'],
    namespaces: ['network', 'common'],
  },
  {
    name: 'volumes',
    component: Volumes,
    path: '/volumes',
    en: ['Volumes', 'New volume', 'Access mode', 'Mounted by', 'not mounted', 'Expand', 'workload db'],
    zh: ['存储卷', '新建存储卷', '访问模式', '挂载方', '未挂载', '扩容', '工作负载 db'],
    namespaces: ['volumes', 'common'],
  },
  {
    name: 'config center',
    component: ConfigCenter,
    path: '/config-center',
    en: ['Config center', 'New ConfigMap', 'Keys', 'Opaque (key → value)', 'Edit'],
    zh: ['配置中心', '新建配置项', '键', '普通（键 → 值）', '编辑'],
    namespaces: ['configCenter', 'common'],
  },
  {
    name: 'images',
    component: Images,
    path: '/images',
    en: [
      'Images',
      'Uncategorized',
      'Visibility',
      'Public',
      'Staging',
      'Architectures',
      'Pull command',
      'Clean',
      'Critical',
      '1 finding',
      'Not scanned',
      'Signed',
    ],
    zh: ['镜像', '未分类', '可见性', '公共', '暂存', '架构', '拉取命令', '无漏洞', '严重', '中危', '1 个漏洞', '未扫描', '已签名'],
    namespaces: ['images', 'common'],
    prepare: async () => {
      for (const icon of document.querySelectorAll<HTMLElement>('.el-table__expand-icon')) icon.click();
      await settle();
    },
  },
];

type Messages = { [key: string]: string | Messages };

/** `path → message` of every leaf of a message tree. */
function leaves(tree: Messages, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out.set(path, v);
    else for (const [p, m] of leaves(v, path)) out.set(p, m);
  }
  return out;
}

const placeholders = (message: string): string[] => [...new Set([...message.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!))].sort();

/**
 * English messages of these namespaces that read differently in Chinese and are whole labels (no
 * placeholder, three letters or more): after the switch, none may be on the page as a word of its own.
 */
function englishOnly(namespaces: string[]): string[] {
  const en = i18n.global.getLocaleMessage('en') as unknown as Messages;
  const zh = leaves(i18n.global.getLocaleMessage('zh-CN') as unknown as Messages);
  const out: string[] = [];
  for (const ns of namespaces) {
    for (const [path, message] of leaves(en[ns] as Messages, ns)) {
      if (message.includes('{') || message.replace(/[^A-Za-z]/g, '').length < 3 || zh.get(path) === message) continue;
      out.push(message);
    }
  }
  return [...new Set(out)];
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const shownAsWord = (text: string, message: string): boolean => new RegExp(`(^|[^A-Za-z])${escape(message)}($|[^A-Za-z])`).test(text);

const LOCALE_FILES = import.meta.glob<{ default: Messages }>('../locales/*.ts', { eager: true });
const localeFile = (name: string): Messages => {
  const mod = LOCALE_FILES[`../locales/${name}`];
  if (!mod) throw new Error(`no locale file ${name}`);
  return mod.default;
};
const EN_FILES = Object.keys(LOCALE_FILES)
  .map((p) => p.slice('../locales/'.length))
  .filter((f) => f === 'en.ts' || f.endsWith('.en.ts'));

describe('locale files', () => {
  it('come in pairs: every *.en.ts has its *.zh-CN.ts and the reverse', () => {
    const files = Object.keys(LOCALE_FILES).map((p) => p.slice('../locales/'.length));
    const zhFiles = files.filter((f) => f === 'zh-CN.ts' || f.endsWith('.zh-CN.ts'));
    expect(EN_FILES.length).toBeGreaterThan(5);
    expect(zhFiles.map((f) => f.replace(/zh-CN\.ts$/, 'en.ts')).sort()).toEqual([...EN_FILES].sort());
  });

  it.each(EN_FILES)('%s and its zh-CN file have the same keys and placeholders, none empty', (file) => {
    const en = leaves(localeFile(file));
    const zh = leaves(localeFile(file.replace(/en\.ts$/, 'zh-CN.ts')));
    expect(
      [...en.keys()].filter((k) => !zh.has(k)),
      'keys missing in zh-CN',
    ).toEqual([]);
    expect(
      [...zh.keys()].filter((k) => !en.has(k)),
      'keys missing in en',
    ).toEqual([]);
    expect(
      [...en.keys()].filter((k) => placeholders(en.get(k)!).join() !== placeholders(zh.get(k) ?? '').join()),
      'placeholders differ',
    ).toEqual([]);
    expect(
      [...en, ...zh].filter(([, m]) => m.trim() === '').map(([k]) => k),
      'empty messages',
    ).toEqual([]);
  });
});

describe('language switch', { timeout: 120_000 }, () => {
  beforeEach(() => {
    serve();
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    transport.fetch = originalFetch;
    i18n.global.locale.value = 'en';
    document.body.innerHTML = '';
  });

  it.each(VIEWS)('changes the labels of $name', async (view) => {
    i18n.global.locale.value = 'en';
    const router = createRouter({ history: createMemoryHistory(), routes });
    await router.push(view.path);
    await router.isReady();
    const pinia = createPinia();
    setActivePinia(pinia);
    await useSessionStore(pinia).load();
    const wrapper = mount({ template: '<router-view />' }, { attachTo: document.body, global: { plugins: [ElementPlus, pinia, i18n, router] } });
    await settle();
    await vi.waitFor(() => expect(document.body.textContent).toContain(view.en[0]));
    await view.prepare?.();
    const before = document.body.textContent ?? '';
    for (const label of view.en) expect(before).toContain(label);

    i18n.global.locale.value = 'zh-CN';
    await settle();
    const after = document.body.textContent ?? '';
    for (const label of view.zh) expect(after).toContain(label);
    for (const label of view.en) expect(after).not.toContain(label);
    if (view.namespaces) expect(englishOnly(view.namespaces).filter((m) => shownAsWord(after, m))).toEqual([]);
    wrapper.unmount();
  });
});
