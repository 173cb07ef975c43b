/* Identity and privilege drop: the user's process runs with the user's
 * ids and groups, no capability in any of the five sets, no_new_privs, a
 * seccomp filter against terminal injection, and a parent-death signal.
 * Every step is checked; a step that fails stops the launch.
 *
 * A config.json that names capabilities (runc spec's plan: has_caps) gets
 * exactly those, set as runc sets them: the rest of the bounding set
 * dropped, permitted, effective and inheritable as given, ambient raised
 * where the kernel allows it (in permitted and inheritable: runc warns
 * and leaves the others out), no securebits (root's exec gets the bounding
 * set back, as under runc); no_new_privs all the same. */
#include <errno.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/securebits.h>
#include <poll.h>
#if !defined(__x86_64__)
#include <seccomp.h> /* the TIOCSTI filter, written out on x86-64 */
#endif
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim/shim.h"

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

/* Capability numbers the kernel may know beyond its headers: drop until the
 * kernel says EINVAL. */
#define CAP_PROBE_MAX 64

#ifndef PR_CAP_AMBIENT_RAISE
#define PR_CAP_AMBIENT_IS_SET 1
#define PR_CAP_AMBIENT_RAISE 2
#endif

/* every capability but those in keep (each drop commits new credentials:
 * only those still in the set are dropped) */
static int drop_bounding_except(uint64_t keep, nscell_error_t *err)
{
	for (int cap = 0; cap < CAP_PROBE_MAX; cap++) {
		if (keep & (1ull << cap))
			continue;
		int in = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
		if (in < 0)
			break; /* past the kernel's last capability */
		if (in && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return nscell_error_errno(err, errno, "drop capability %d from the bounding set",
						  cap);
	}
	return 0;
}

/* The bounding set only bounds what an exec can gain, so the sandbox's
 * child drops it first thing, while the host side writes its id maps
 * (launch.c): the command, forked later, inherits it dropped and does not
 * spend its own start on it (each drop is a credentials commit, some 40
 * of them).  Best effort: creds_drop drops and checks it again. */
void creds_drop_bounding_early(const struct shim *s)
{
	if (s->as_root)
		return; /* enter --root keeps what root holds in the sandbox */
	const struct plan_process *pp = &s->plan->proc;
	nscell_error_t ignored = { 0 };
	drop_bounding_except(pp->has_caps ? pp->caps.bounding : 0, &ignored);
}

static int drop_bounding_set(nscell_error_t *err)
{
	return drop_bounding_except(0, err);
}

/* The effective, permitted and inheritable sets, straight from the kernel
 * (capget/capset, version 3: two 32-bit words a set). */
struct cap_sets {
	uint64_t effective, permitted, inheritable;
};

static int caps_get(struct cap_sets *c)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = { { 0 } };
	if (syscall(SYS_capget, &h, d) < 0)
		return -1;
	c->effective = (uint64_t)d[1].effective << 32 | d[0].effective;
	c->permitted = (uint64_t)d[1].permitted << 32 | d[0].permitted;
	c->inheritable = (uint64_t)d[1].inheritable << 32 | d[0].inheritable;
	return 0;
}

static int caps_set(const struct cap_sets *c)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		d[i] = (struct __user_cap_data_struct){
			.effective = (uint32_t)(c->effective >> (32 * i)),
			.permitted = (uint32_t)(c->permitted >> (32 * i)),
			.inheritable = (uint32_t)(c->inheritable >> (32 * i)),
		};
	return syscall(SYS_capset, &h, d) < 0 ? -1 : 0;
}

static int check_no_caps(bool bounding, nscell_error_t *err)
{
	struct cap_sets now;
	if (caps_get(&now) < 0 || now.effective || now.permitted || now.inheritable)
		return nscell_error_set(err, 0, "capabilities are still set after dropping them");
	for (int cap = 0; bounding && cap < CAP_PROBE_MAX; cap++) {
		int r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
		if (r < 0)
			break;
		if (r > 0)
			return nscell_error_set(err, 0, "capability %d is still in the bounding set", cap);
	}
	return 0;
}

/* empty effective, permitted and inheritable sets */
static int clear_cap_sets(nscell_error_t *err)
{
	if (caps_set(&(struct cap_sets){ 0 }) < 0)
		return nscell_error_errno(err, errno, "clear capabilities");
	return 0;
}

/* the capabilities this kernel knows, as a mask */
static uint64_t kernel_caps(void)
{
	int cap = 0;
	while (cap < CAP_PROBE_MAX && prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0)
		cap++;
	return cap >= 64 ? ~0ull : (1ull << cap) - 1;
}

/* ambient: what the kernel lets be raised (runc leaves the rest out) */
static uint64_t ambient_of(const struct plan_caps *c, uint64_t known)
{
	return c->ambient & c->permitted & c->inheritable & known;
}

/* (after the uid change) permitted, effective, inheritable, ambient */
static int set_caps(const struct shim *s, const struct plan_caps *c, uint64_t known,
		    nscell_error_t *err)
{
	struct cap_sets want = { .effective = c->effective & known, .permitted = c->permitted & known,
				 .inheritable = c->inheritable & known };
	if (caps_set(&want) < 0)
		return nscell_error_errno(err, errno, "set the capabilities the config names");
	for (int cap = 0; cap < 64; cap++) {
		uint64_t bit = 1ull << cap;
		if ((c->ambient & bit) && !(ambient_of(c, known) & bit))
			shim_log(s, NULL, "ambient %s left out: not in permitted and inheritable "
				 "(as runc)", plan_cap_name(cap) ? plan_cap_name(cap) : "?");
		else if ((c->ambient & bit) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			return nscell_error_errno(err, errno, "raise ambient %s", plan_cap_name(cap));
	}
	return 0;
}

/* exactly the config's sets, no more (the self-check of check_no_caps) */
static int check_caps(const struct plan_caps *c, uint64_t known, bool bounding,
		      nscell_error_t *err)
{
	struct cap_sets now;
	if (caps_get(&now) < 0)
		return nscell_error_errno(err, errno, "read the capabilities back");
	bool same = now.permitted == (c->permitted & known) &&
		    now.effective == (c->effective & known) &&
		    now.inheritable == (c->inheritable & known);
	if (!same)
		return nscell_error_set(err, 0, "capabilities are not the config's after setting them");
	for (int cap = 0; cap < 64 && (known & (1ull << cap)); cap++) {
		uint64_t bit = 1ull << cap;
		int amb = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0);
		if (amb >= 0 && (amb > 0) != ((ambient_of(c, known) & bit) != 0))
			return nscell_error_set(err, 0, "ambient capability %d is not the config's", cap);
		if (bounding && (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) > 0) != ((c->bounding & bit) != 0))
			return nscell_error_set(err, 0, "bounding capability %d is not the config's", cap);
	}
	return 0;
}

int creds_init_caps(nscell_error_t *err)
{
	/* everything but CAP_KILL: the init passes signals on to the
	 * command, which runs as another uid */
	if (drop_bounding_except(1ull << CAP_KILL, err) < 0)
		return -1;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return nscell_error_errno(err, errno, "clear ambient capabilities");
	uint64_t kill = 1ull << CAP_KILL;
	if (caps_set(&(struct cap_sets){ .effective = kill, .permitted = kill }) < 0)
		return nscell_error_errno(err, errno, "keep only CAP_KILL");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return nscell_error_errno(err, errno, "set no_new_privs");
	return 0;
}

/* TIOCSTI (push input into a terminal) and TIOCLINUX (its console twin:
 * selection paste) let a sandboxed process type commands into the
 * caller's shell when it shares the terminal.  The new session already
 * stops TIOCSTI on a terminal that is not its controlling one; the filter
 * is the second lock (and the only one when setsid is not possible: a
 * process group leader running with the vhost's sandbox off). */
#if defined(__x86_64__)
/* On x86-64 the filter is written out here: what libseccomp builds, less
 * its ~150 us per launch.  ioctl is 16 on x86-64, 54 on i386 and 514 with
 * the x32 bit on x32; the request is compared on its low 32 bits (the
 * kernel truncates it to unsigned int, as SCMP_CMP_MASKED_EQ 0xffffffff
 * would); other architectures cannot run here and pass. */
enum {
	TIOCSTI_NR = offsetof(struct seccomp_data, nr),
	TIOCSTI_ARCH = offsetof(struct seccomp_data, arch),
	TIOCSTI_ARG1_LOW = offsetof(struct seccomp_data, args[1]), /* little-endian */
	TIOCSTI_X32 = 0x40000000,
};
static const struct sock_filter tiocsti_insns[] = {
	/* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, TIOCSTI_ARCH),
	/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 5),
	/* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, TIOCSTI_NR),
	/* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 16, 6, 0),
	/* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TIOCSTI_X32 | 514, 5, 0),
	/* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TIOCSTI_X32 | 16, 4, 0),
	/* 6 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	/* 7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 5),
	/* 8 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, TIOCSTI_NR),
	/* 9 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 54, 0, 3),
	/* 10 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, TIOCSTI_ARG1_LOW),
	/* 11 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TIOCSTI, 2, 0),
	/* 12 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TIOCLINUX, 1, 0),
	/* 13 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	/* 14 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
};
static const struct sock_fprog tiocsti_prog = {
	.len = sizeof tiocsti_insns / sizeof *tiocsti_insns,
	.filter = (struct sock_filter *)tiocsti_insns, /* the kernel only reads it */
};

const struct sock_fprog *creds_tiocsti_filter(void)
{
	return &tiocsti_prog;
}

static int block_terminal_injection(nscell_error_t *err)
{
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &tiocsti_prog, 0, 0) < 0)
		return nscell_error_errno(err, errno, "seccomp filter against TIOCSTI");
	return 0;
}
#else
const struct sock_fprog *creds_tiocsti_filter(void)
{
	return NULL;
}

static int block_terminal_injection(nscell_error_t *err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return nscell_error_set(err, 0, "seccomp: out of memory");
	/* a filter kills syscalls of architectures it does not name: name the
	 * compat one so 32-bit programs work (and are filtered too) */
#if defined(__aarch64__)
	seccomp_arch_add(ctx, SCMP_ARCH_ARM);
#endif
	static const unsigned long requests[] = { TIOCSTI, TIOCLINUX };
	int r = 0;
	for (size_t i = 0; i < sizeof requests / sizeof *requests && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, requests[i]));
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		return nscell_error_errno(err, -r, "seccomp filter against TIOCSTI");
	return 0;
}
#endif

/* enter --root: uid and gid 0 of the sandbox, no supplementary group; the
 * capabilities stay those of root in the sandbox's user namespace */
static int become_sandbox_root(nscell_error_t *err)
{
	if (setgroups(0, NULL) < 0)
		return nscell_error_errno(err, errno, "setgroups for root");
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		return nscell_error_errno(err, errno, "become root of the sandbox");
	return 0;
}

/* The user's ids in the sandbox's user namespace: its own, or 0:0 for a
 * config's container root mapped to a rootless caller (plan.h) */
static struct plan_identity sandbox_ids(const struct shim *s)
{
	struct plan_identity id = s->plan->id;
	if (s->rootless && s->plan->userns_root)
		id.uid = 0, id.gid = 0;
	return id;
}

static int become_user(const struct shim *s, nscell_error_t *err)
{
	const struct plan_identity ids = sandbox_ids(s), *id = &ids;
	const struct plan_process *pp = &s->plan->proc;
	bool keep = pp->has_caps; /* a config's capabilities */
	uint64_t known = keep ? kernel_caps() : 0;
	/* With setgroups denied (unprivileged user namespace) the caller's own
	 * groups stay, as they must: dropping a group can grant access. */
	if (!s->rootless && setgroups(id->ngroups, id->groups) < 0)
		return nscell_error_errno(err, errno, "setgroups for %s", id->user);
	if (setresgid(id->gid, id->gid, id->gid) < 0)
		return nscell_error_errno(err, errno, "setresgid %u", (unsigned)id->gid);
	/* An unprivileged caller running a vhost whose sandbox is off is in
	 * no user namespace of ours: it holds no capability, and cannot drop
	 * the bounding set nor set securebits (both need CAP_SETPCAP).  The
	 * set it keeps is its own, as it would be without nscell, and
	 * no_new_privs (below) keeps any exec from granting one. */
	bool privileged = !(s->rootless && s->plan->sandbox_off);
	if (privileged && drop_bounding_except(keep ? pp->caps.bounding : 0, err) < 0)
		return -1;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return nscell_error_errno(err, errno, "clear ambient capabilities");
	/* uid 0 (-u root) must not get capabilities back from an exec either;
	 * the lock bits freeze the rest at their safe defaults */
	unsigned long bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED |
			     SECBIT_KEEP_CAPS_LOCKED;
	if (privileged && !keep && prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) < 0)
		return nscell_error_errno(err, errno, "set securebits");
	/* the config's permitted set outlives the change of uid, as runc's */
	if (keep && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return nscell_error_errno(err, errno, "keep capabilities over the uid change");
	if (setresuid(id->uid, id->uid, id->uid) < 0)
		return nscell_error_errno(err, errno, "setresuid %u", (unsigned)id->uid);
	if (keep && prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return nscell_error_errno(err, errno, "clear keep-capabilities");
	if ((keep ? set_caps(s, &pp->caps, known, err) : clear_cap_sets(err)) < 0)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return nscell_error_errno(err, errno, "set no_new_privs");

	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 || ru != id->uid ||
	    eu != id->uid || su != id->uid || rg != id->gid || eg != id->gid || sg != id->gid)
		return nscell_error_set(err, 0, "ids are not %u:%u after the switch", (unsigned)id->uid,
					(unsigned)id->gid);
	return keep ? check_caps(&pp->caps, known, privileged, err) :
		      check_no_caps(privileged, err);
}

int creds_drop(const struct shim *s, bool pdeath, pid_t parent, nscell_error_t *err)
{
	if ((s->as_root ? become_sandbox_root(err) : become_user(s, err)) < 0)
		return -1;
	if (s->tty_filter && block_terminal_injection(err) < 0)
		return -1;
	/* last: any credential change clears the parent-death signal */
	if (pdeath) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
			return nscell_error_errno(err, errno, "set the parent-death signal");
		if (getppid() != parent)
			return nscell_error_set(err, 0, "the sandbox's init died during the launch");
		/* a parent outside the pid namespace reads 0 even after it died
		 * (the orphan's new parent is outside too): the error pipe's
		 * reader end, the shim's, tells */
		struct pollfd pfd = { .fd = s->err_fd, .events = POLLOUT };
		if (!parent && s->err_fd >= 0 && poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLERR))
			return nscell_error_set(err, 0, "nscell-shim died during the launch");
	}
	return 0;
}

int creds_keeper(nscell_error_t *err)
{
	/* uid 0 exec'ing gets no capability back (NOROOT), the bounding set
	 * is empty anyway, and nothing raises privileges later */
	unsigned long bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED |
			     SECBIT_KEEP_CAPS_LOCKED;
	if (prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) < 0)
		return nscell_error_errno(err, errno, "keeper: set securebits");
	if (drop_bounding_set(err) < 0)
		return -1;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return nscell_error_errno(err, errno, "keeper: clear ambient capabilities");
	if (clear_cap_sets(err) < 0)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return nscell_error_errno(err, errno, "keeper: set no_new_privs");
	return 0;
}

int creds_fs_as_user(const struct shim *s, nscell_error_t *err)
{
	uid_t uid = sandbox_ids(s).uid;
	gid_t gid = sandbox_ids(s).gid;
	setfsgid(gid);
	setfsuid(uid);
	/* setfs*id report the previous id, never an error: ask again */
	if ((uid_t)setfsuid((uid_t)-1) != uid || (gid_t)setfsgid((gid_t)-1) != gid) {
		creds_fs_restore();
		return nscell_error_set(err, EPERM, "cannot act as uid %u gid %u", (unsigned)uid,
					(unsigned)gid);
	}
	return 0;
}

void creds_fs_restore(void)
{
	setfsuid(geteuid());
	setfsgid(getegid());
}
