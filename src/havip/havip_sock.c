/*
 * havip_sock.c - the snooping socket of one instance link: AF_PACKET
 * SOCK_RAW with a classic BPF filter, so the kernel wakes us only for
 * what the controller parses: frames received (not sent) on the link
 * that are ARP, or IPv4 with protocol 112 (VRRP).
 *
 * Opened with protocol 0, which receives nothing, then filtered, then
 * bound to the link and ETH_P_ALL: no frame of another link or type can
 * slip in before the filter is attached.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "havip/havip_frame.h"
#include "havip/havip_rt.h"

/*
 *	ldb  [pkttype]        ; drop what this host sends
 *	jeq  #OUTGOING, drop
 *	ldh  [12]             ; Ethernet type
 *	jeq  #0x0806, accept
 *	jeq  #0x0800, +0, drop
 *	ldb  [23]             ; IPv4 protocol
 *	jeq  #112, accept, drop
 */
static struct sock_filter havip_sock_bpf[] = {
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 5, 0),
	BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, HAVIP_ETH_ARP, 4, 0),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, HAVIP_ETH_IPV4, 0, 2),
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, HAVIP_ETH_HLEN + 9),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, VRRP_IPPROTO, 1, 0),
	BPF_STMT(BPF_RET | BPF_K, 0),
	BPF_STMT(BPF_RET | BPF_K, HAVIP_FRAME_MAX),
};

int
havip_sock_open(int ifindex)
{
	struct sock_fprog prog = {
		.len = sizeof(havip_sock_bpf) / sizeof(havip_sock_bpf[0]),
		.filter = havip_sock_bpf,
	};
	struct sockaddr_ll sll;
	int fd, e;

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) ==
	    -1)
		goto fail;
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) == -1)
		goto fail;
	return fd;
fail:
	e = errno;
	close(fd);
	return -e;
}
