/** Route names, so views navigate by name and tests can build a router with the same names. */
export const ROUTE = {
  myTickets: 'my-tickets',
  newQuotaChange: 'new-quota-change',
  ticketDetail: 'ticket-detail',
  inbox: 'approvals-inbox',
  domains: 'admin-domains',
  vdcDetail: 'admin-vdc-detail',
  roles: 'admin-roles',
  pools: 'admin-pools',
  poolDetail: 'admin-pool-detail',
  audit: 'admin-audit',
  ipLists: 'admin-ip-lists',
  apiTokens: 'api-tokens',
  forbidden: 'forbidden',
  notFound: 'not-found',
} as const;
