/** Route names, so views navigate by name and tests can build a router with the same names. */
export const ROUTE = {
  myTickets: 'my-tickets',
  newQuotaChange: 'new-quota-change',
  ticketDetail: 'ticket-detail',
  inbox: 'approvals-inbox',
  forbidden: 'forbidden',
  notFound: 'not-found',
} as const;
