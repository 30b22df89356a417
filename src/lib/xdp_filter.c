/*
 * xdp_filter.c - see xdp_filter.h. The program, in the order it runs:
 *
 *	r6 = ctx; r2 = data; r3 = data_end
 *	pass unless data + 42 <= data_end         (eth 14 + IPv4 20 + UDP 8)
 *	pass unless ethertype IPv4, version 4 ihl 5, protocol UDP
 *	pass if MF or a fragment offset is set
 *	for each destination: redirect if daddr (unless 0) and dport match
 *	pass: return XDP_PASS
 *	redirect: return bpf_redirect_map(xskmap, rx_queue_index, XDP_PASS)
 *
 * Packet bytes are loaded in host order and compared with immediates made
 * from network-order fields the same way, so it is endian-neutral.
 */
#include <sys/syscall.h>

#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/if_link.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/xdp_filter.h"

#define XDP_FILTER_INSNS_MAX (32 + 4 * XDP_FILTER_DST_MAX)
#define XDP_FILTER_HDRS      42 /* ethernet + IPv4 without options + UDP */

/* Instruction constructors, as linux/filter.h (not a uapi header) has. */
#define XI(c, d, s, o, i)                                                      \
	((struct bpf_insn){ .code = (c),                                       \
	    .dst_reg = (d),                                                    \
	    .src_reg = (s),                                                    \
	    .off = (int16_t)(o),                                               \
	    .imm = (int32_t)(i) })
#define X_MOV_REG(d, s)      XI(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define X_MOV_IMM(d, i)      XI(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define X_ADD_IMM(d, i)      XI(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
#define X_AND_IMM(d, i)      XI(BPF_ALU64 | BPF_AND | BPF_K, d, 0, 0, i)
#define X_LDX(sz, d, s, o)   XI(BPF_LDX | (sz) | BPF_MEM, d, s, o, 0)
#define X_JGT_REG(d, s, o)   XI(BPF_JMP | BPF_JGT | BPF_X, d, s, o, 0)
#define X_JNE_IMM(d, i, o)   XI(BPF_JMP | BPF_JNE | BPF_K, d, 0, o, i)
#define X_JNE32_IMM(d, i, o) XI(BPF_JMP32 | BPF_JNE | BPF_K, d, 0, o, i)
#define X_JA(o)              XI(BPF_JMP | BPF_JA, 0, 0, o, 0)
#define X_CALL(f)            XI(BPF_JMP | BPF_CALL, 0, 0, 0, f)
#define X_EXIT()             XI(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* Labels a jump can wait for: its offset is set once the target is. */
enum xdp_filter_label {
	XDP_FILTER_L_PASS,
	XDP_FILTER_L_REDIRECT
};

struct xdp_filter_prog {
	struct bpf_insn v[XDP_FILTER_INSNS_MAX];
	size_t n;
	/* jumps to patch: index and label */
	size_t fix[XDP_FILTER_INSNS_MAX];
	enum xdp_filter_label fix_to[XDP_FILTER_INSNS_MAX];
	size_t nfix;
};

static int
xdp_filter_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static void
xdp_filter_emit(struct xdp_filter_prog *p, struct bpf_insn i)
{
	p->v[p->n++] = i;
}

/* Emit jump i whose target is label l. */
static void
xdp_filter_jump(
    struct xdp_filter_prog *p, struct bpf_insn i, enum xdp_filter_label l)
{
	p->fix[p->nfix] = p->n;
	p->fix_to[p->nfix++] = l;
	xdp_filter_emit(p, i);
}

/* Point every jump to l at the next instruction. */
static void
xdp_filter_label(struct xdp_filter_prog *p, enum xdp_filter_label l)
{
	for (size_t k = 0; k < p->nfix; k++)
		if (p->fix_to[k] == l)
			p->v[p->fix[k]].off = (int16_t)(p->n - p->fix[k] - 1);
}

static void
xdp_filter_build(struct xdp_filter_prog *p, int map_fd,
    const struct xdp_filter_dst *dst, size_t ndst)
{
	memset(p, 0, sizeof(*p));
	xdp_filter_emit(p, X_MOV_REG(BPF_REG_6, BPF_REG_1));
	xdp_filter_emit(p,
	    X_LDX(BPF_W, BPF_REG_2, BPF_REG_1, offsetof(struct xdp_md, data)));
	xdp_filter_emit(p,
	    X_LDX(BPF_W, BPF_REG_3, BPF_REG_1,
	        offsetof(struct xdp_md, data_end)));
	xdp_filter_emit(p, X_MOV_REG(BPF_REG_4, BPF_REG_2));
	xdp_filter_emit(p, X_ADD_IMM(BPF_REG_4, XDP_FILTER_HDRS));
	xdp_filter_jump(
	    p, X_JGT_REG(BPF_REG_4, BPF_REG_3, 0), XDP_FILTER_L_PASS);
	xdp_filter_emit(p, X_LDX(BPF_H, BPF_REG_5, BPF_REG_2, 12));
	xdp_filter_jump(
	    p, X_JNE_IMM(BPF_REG_5, htons(0x0800), 0), XDP_FILTER_L_PASS);
	xdp_filter_emit(p, X_LDX(BPF_B, BPF_REG_5, BPF_REG_2, 14));
	xdp_filter_jump(p, X_JNE_IMM(BPF_REG_5, 0x45, 0), XDP_FILTER_L_PASS);
	xdp_filter_emit(p, X_LDX(BPF_B, BPF_REG_5, BPF_REG_2, 23));
	xdp_filter_jump(p, X_JNE_IMM(BPF_REG_5, 17, 0), XDP_FILTER_L_PASS);
	/* MF and the fragment offset: RFC 791 §3.1 */
	xdp_filter_emit(p, X_LDX(BPF_H, BPF_REG_5, BPF_REG_2, 20));
	xdp_filter_emit(p, X_AND_IMM(BPF_REG_5, htons(0x3fff)));
	xdp_filter_jump(p, X_JNE_IMM(BPF_REG_5, 0, 0), XDP_FILTER_L_PASS);
	xdp_filter_emit(p, X_LDX(BPF_W, BPF_REG_5, BPF_REG_2, 30));
	xdp_filter_emit(p, X_LDX(BPF_H, BPF_REG_4, BPF_REG_2, 36));
	for (size_t i = 0; i < ndst; i++) {
		/* a mismatch skips the rest of this destination's test */
		int skip = dst[i].addr != 0 ? 3 : 2;

		if (dst[i].addr != 0)
			xdp_filter_emit(p,
			    X_JNE32_IMM(
			        BPF_REG_5, (int32_t)dst[i].addr, skip - 1));
		xdp_filter_emit(p, X_JNE_IMM(BPF_REG_4, dst[i].port, 1));
		xdp_filter_jump(p, X_JA(0), XDP_FILTER_L_REDIRECT);
	}
	xdp_filter_label(p, XDP_FILTER_L_PASS);
	xdp_filter_emit(p, X_MOV_IMM(BPF_REG_0, XDP_PASS));
	xdp_filter_emit(p, X_EXIT());
	xdp_filter_label(p, XDP_FILTER_L_REDIRECT);
	xdp_filter_emit(p,
	    X_LDX(BPF_W, BPF_REG_2, BPF_REG_6,
	        offsetof(struct xdp_md, rx_queue_index)));
	/* ld_imm64 of the map: two instructions */
	xdp_filter_emit(p,
	    XI(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0,
	        map_fd));
	xdp_filter_emit(p, XI(0, 0, 0, 0, 0));
	/* a queue without a socket in the map: XDP_PASS */
	xdp_filter_emit(p, X_MOV_IMM(BPF_REG_3, XDP_PASS));
	xdp_filter_emit(p, X_CALL(BPF_FUNC_redirect_map));
	xdp_filter_emit(p, X_EXIT());
}

/* Load the program for dst; its fd or a negative errno. */
static int
xdp_filter_load(int map_fd, const struct xdp_filter_dst *dst, size_t n,
    char *log, size_t size)
{
	struct xdp_filter_prog p;
	union bpf_attr a;
	int fd;

	if (n == 0 || n > XDP_FILTER_DST_MAX)
		return -EINVAL;
	xdp_filter_build(&p, map_fd, dst, n);
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_XDP;
	a.expected_attach_type = BPF_XDP;
	a.insns = (uint64_t)(uintptr_t)p.v;
	a.insn_cnt = (uint32_t)p.n;
	a.license = (uint64_t)(uintptr_t) "Dual BSD/GPL";
	snprintf(a.prog_name, sizeof(a.prog_name), "haven_dns");
	if ((fd = xdp_filter_bpf(BPF_PROG_LOAD, &a)) != -1)
		return fd;
	/* Again with the verifier's log, for the error message (a log
	 * too small for a success would itself fail with ENOSPC). */
	fd = -errno;
	if (log != NULL && size > 0 && fd != -EPERM) {
		log[0] = '\0';
		a.log_level = 1;
		a.log_buf = (uint64_t)(uintptr_t)log;
		a.log_size = (uint32_t)size;
		(void)xdp_filter_bpf(BPF_PROG_LOAD, &a);
	}
	return fd;
}

int
xdp_filter_open(struct xdp_filter *f, int ifindex,
    const struct xdp_filter_dst *dst, size_t n, char *log, size_t size)
{
	union bpf_attr a;
	int e;

	memset(f, 0, sizeof(*f));
	f->ifindex = ifindex;
	f->map_fd = f->prog_fd = f->link_fd = -1;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_XSKMAP;
	a.key_size = 4;
	a.value_size = 4;
	a.max_entries = XDP_FILTER_QUEUES;
	snprintf(a.map_name, sizeof(a.map_name), "haven_xsks");
	if ((f->map_fd = xdp_filter_bpf(BPF_MAP_CREATE, &a)) == -1) {
		e = -errno;
		goto fail;
	}
	if ((f->prog_fd = xdp_filter_load(f->map_fd, dst, n, log, size)) < 0) {
		e = f->prog_fd;
		f->prog_fd = -1;
		goto fail;
	}
	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = (uint32_t)f->prog_fd;
	a.link_create.target_ifindex = (uint32_t)ifindex;
	a.link_create.attach_type = BPF_XDP;
	a.link_create.flags = XDP_FLAGS_SKB_MODE;
	if ((f->link_fd = xdp_filter_bpf(BPF_LINK_CREATE, &a)) == -1) {
		e = -errno;
		goto fail;
	}
	memcpy(f->dst, dst, n * sizeof(*dst));
	f->ndst = n;
	return 0;
fail:
	xdp_filter_close(f);
	return e;
}

int
xdp_filter_update(
    struct xdp_filter *f, const struct xdp_filter_dst *dst, size_t n)
{
	union bpf_attr a;
	int fd;

	if (n == f->ndst && memcmp(dst, f->dst, n * sizeof(*dst)) == 0)
		return 0;
	if ((fd = xdp_filter_load(f->map_fd, dst, n, NULL, 0)) < 0)
		return fd;
	memset(&a, 0, sizeof(a));
	a.link_update.link_fd = (uint32_t)f->link_fd;
	a.link_update.new_prog_fd = (uint32_t)fd;
	if (xdp_filter_bpf(BPF_LINK_UPDATE, &a) == -1) {
		int e = -errno;

		close(fd);
		return e;
	}
	close(f->prog_fd);
	f->prog_fd = fd;
	memcpy(f->dst, dst, n * sizeof(*dst));
	f->ndst = n;
	return 0;
}

int
xdp_filter_add_xsk(struct xdp_filter *f, unsigned q, int xsk_fd)
{
	union bpf_attr a;
	uint32_t key = q, val = (uint32_t)xsk_fd;

	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)f->map_fd;
	a.key = (uint64_t)(uintptr_t)&key;
	a.value = (uint64_t)(uintptr_t)&val;
	a.flags = BPF_ANY;
	return xdp_filter_bpf(BPF_MAP_UPDATE_ELEM, &a) == -1 ? -errno : 0;
}

void
xdp_filter_close(struct xdp_filter *f)
{
	if (f->link_fd >= 0)
		close(f->link_fd);
	if (f->prog_fd >= 0)
		close(f->prog_fd);
	if (f->map_fd >= 0)
		close(f->map_fd);
	f->link_fd = f->prog_fd = f->map_fd = -1;
}
