/*
 * unit_decision - a decision for the unit tests of what renders one (the badmail record, a
 * diversion): recipient `domain` diverted by rule "apps-divert", resting on `ev`.
 */
#ifndef DNSGUARD_UNIT_DECISION_H
#define DNSGUARD_UNIT_DECISION_H

#include "decision.h"

/* bob@<domain> from app@example.net (client 192.0.2.7, HELO app.example.net), outcome nxdomain.
 * The decision borrows `domain` and `ev`. */
struct decision unit_divert_decision(const struct dns_evidence *ev, const char *domain);

#endif
