/*
 * hc.h - health verdicts shared by every plane: the states a target can be in
 * and the reasons that explain them. These values cross process boundaries
 * (struct ipc_verdict) and appear in the API and in metrics, so they are only
 * ever appended to, never renumbered.
 */
#ifndef HAVEN_HC_H
#define HAVEN_HC_H

enum hc_state {
	HC_UNKNOWN, /* not probed yet since a cold start */
	HC_UP,
	HC_DOWN,
	HC__STATE_COUNT
};

/* Why a probe failed, or why a target is in its state. One value per cause. */
enum hc_reason {
	HC_R_OK,              /* probe passed */
	HC_R_CONNECT_REFUSED, /* RST / ECONNREFUSED */
	HC_R_TIMEOUT,         /* no complete answer within the timeout */
	HC_R_UNREACHABLE,     /* EHOSTUNREACH / ENETUNREACH / ICMP error */
	HC_R_RESET,           /* connection reset after it was established */
	HC_R_CLOSED,          /* peer closed before a complete answer */
	HC_R_BAD_STATUS,      /* HTTP status not in the expected set */
	HC_R_BODY_MISMATCH, /* expected body substring / expect string absent */
	HC_R_PROTOCOL_ERROR,  /* garbage instead of the protocol */
	HC_R_TLS_ERROR,       /* handshake or verification failure */
	HC_R_DNS_RCODE,       /* DNS answer with an unexpected rcode */
	HC_R_DNS_ANSWER,      /* DNS answer without the expected address */
	HC_R_EXEC_FAILED,     /* exec check exited non-zero or was killed */
	HC_R_TOO_LARGE,       /* response exceeded the size the check reads */
	HC_R_PASSIVE_EJECTED, /* real traffic failures reported by a plane */
	HC_R_DAMPED,          /* flap damping holds the target down */
	HC_R_INTERNAL,        /* local resource failure (socket, fork...) */
	HC_R_RESTORED,        /* state restored from the state directory */
	HC_R_ADMIN,           /* reserved for operator actions */
	HC_R_NOT_PROBED,      /* cold start: no probe has finished yet */
	HC__REASON_COUNT
};

const char *hc_state_name(enum hc_state s);
const char *hc_reason_name(enum hc_reason r);
/* Returns the enum value, or -1 if the name is unknown. */
int hc_reason_parse(const char *name);

#endif
