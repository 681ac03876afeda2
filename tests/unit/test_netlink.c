/* Unit tests for pkg/net/netlink: request building (layout, nesting, overflow), reply parsing
 * from fake buffers (ACKs, kernel errors with extended-ACK text, link messages, and hostile or
 * truncated replies), attribute lookup, and argument checks made before anything is sent. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <string.h>

#include "pkg/net/netlink.h"
#include "vendor-free/err.h"

/* A fake reply buffer. */
struct fake {
	union {
		uint32_t align;
		unsigned char b[2048];
	} u;
	size_t len;
};

static struct nlmsghdr *fake_msg(struct fake *f, uint16_t type, uint16_t flags, uint32_t seq, const void *payload,
				 size_t plen)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(f->u.b + f->len);
	h->nlmsg_len = (uint32_t)(NLMSG_HDRLEN + plen);
	h->nlmsg_type = type;
	h->nlmsg_flags = flags;
	h->nlmsg_seq = seq;
	h->nlmsg_pid = 0;
	memcpy(f->u.b + f->len + NLMSG_HDRLEN, payload, plen);
	f->len += NLMSG_ALIGN(h->nlmsg_len);
	return h;
}

static void fake_ack(struct fake *f, uint32_t seq, int error)
{
	struct nlmsgerr e = {.error = error};
	fake_msg(f, NLMSG_ERROR, NLM_F_CAPPED, seq, &e, sizeof(e));
}

/* Append an attribute to the last message. */
static void fake_attr(struct fake *f, struct nlmsghdr *h, uint16_t type, const void *data, size_t len)
{
	f->len = (size_t)((unsigned char *)h - f->u.b) + NLMSG_ALIGN(h->nlmsg_len);
	struct rtattr *a = (struct rtattr *)(f->u.b + f->len);
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	h->nlmsg_len = (uint32_t)(f->len - (size_t)((unsigned char *)h - f->u.b) + RTA_LENGTH(len));
	f->len += RTA_SPACE(len);
}

static void parse_bad(const struct fake *f, size_t len, const char *needle)
{
	struct nl_reply r = {0};
	struct skiff_err *err = NULL;
	assert_int_equal(nl_reply_parse(f->u.b, len, 7, &r, &err), -1);
	assert_int_equal(err_status(err), EBADMSG);
	if (!strstr(err->msg, needle))
		fail_msg("\"%s\" lacks \"%s\"", err->msg, needle);
	err_free(err);
}

static void test_build_veth(void **state)
{
	(void)state;
	struct nl_msg m;
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	nl_msg_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
	nl_msg_put_str(&m, IFLA_IFNAME, "sk0123456789");
	size_t info = nl_msg_nest_begin(&m, IFLA_LINKINFO);
	nl_msg_put_str(&m, IFLA_INFO_KIND, "veth");
	size_t data = nl_msg_nest_begin(&m, IFLA_INFO_DATA);
	nl_msg_put_u32(&m, VETH_INFO_PEER, 42);
	nl_msg_nest_end(&m, data);
	nl_msg_nest_end(&m, info);
	assert_false(m.overflow);
	const struct nlmsghdr *h = (const struct nlmsghdr *)m.u.buf;
	assert_int_equal(h->nlmsg_len, m.len);
	assert_int_equal(h->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
	assert_int_equal(m.len % 4, 0);
	/* walk it back with the same parser the replies use */
	const unsigned char *attrs = m.u.buf + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(ifi));
	size_t alen = m.len - NLMSG_HDRLEN - NLMSG_ALIGN(sizeof(ifi));
	const void *d;
	size_t dl;
	assert_int_equal(nl_attr_find(attrs, alen, IFLA_IFNAME, &d, &dl), 0);
	assert_int_equal(dl, strlen("sk0123456789") + 1);
	assert_string_equal(d, "sk0123456789");
	assert_int_equal(nl_attr_find(attrs, alen, IFLA_LINKINFO, &d, &dl), 0);
	/* the nest spans exactly its children: kind (4+5 -> 12) and data (4 + 8) */
	assert_int_equal(dl, RTA_SPACE(5) + RTA_LENGTH(RTA_SPACE(4)));
	const void *k;
	size_t kl;
	assert_int_equal(nl_attr_find(d, dl, IFLA_INFO_KIND, &k, &kl), 0);
	assert_string_equal(k, "veth");
	assert_int_equal(nl_attr_find(d, dl, IFLA_INFO_DATA, &k, &kl), 0);
	const void *p;
	size_t pl;
	assert_int_equal(nl_attr_find(k, kl, VETH_INFO_PEER, &p, &pl), 0);
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	assert_int_equal(v, 42);
	assert_int_equal(nl_attr_find(attrs, alen, IFLA_MTU, &d, &dl), -1);
}

static void test_build_overflow(void **state)
{
	(void)state;
	struct nl_msg m;
	struct rtmsg rt = {0};
	nl_msg_init(&m, RTM_NEWROUTE, 0, &rt, sizeof(rt));
	char big[300];
	memset(big, 'x', sizeof(big));
	for (int i = 0; i < 10; i++)
		nl_msg_put(&m, RTA_DST, big, sizeof(big));
	assert_true(m.overflow);
	assert_true(m.len <= NL_MSG_MAX);
	assert_int_equal(((struct nlmsghdr *)m.u.buf)->nlmsg_len, m.len);
	/* an attribute longer than rta_len can say */
	nl_msg_init(&m, RTM_NEWROUTE, 0, &rt, sizeof(rt));
	nl_msg_put(&m, RTA_DST, big, 70000);
	assert_true(m.overflow);
}

static void test_ack(void **state)
{
	(void)state;
	struct fake f = {.len = 0};
	fake_ack(&f, 6, -EEXIST); /* a stale one for an earlier request: skipped */
	fake_ack(&f, 7, 0);
	struct nl_reply r = {0};
	struct skiff_err *err = NULL;
	assert_int_equal(nl_reply_parse(f.u.b, f.len, 7, &r, &err), 0);
	assert_true(r.done);
	assert_int_equal(r.error, 0);

	f.len = 0;
	fake_ack(&f, 7, -EEXIST);
	memset(&r, 0, sizeof(r));
	assert_int_equal(nl_reply_parse(f.u.b, f.len, 7, &r, &err), 0);
	assert_true(r.done);
	assert_int_equal(r.error, EEXIST);
	assert_string_equal(r.msg, "");

	/* nothing for us yet: not done */
	memset(&r, 0, sizeof(r));
	assert_int_equal(nl_reply_parse(f.u.b, f.len, 8, &r, &err), 0);
	assert_false(r.done);
}

static void test_ext_ack(void **state)
{
	(void)state;
	struct fake f = {.len = 0};
	struct nlmsgerr e = {.error = -EINVAL};
	e.msg.nlmsg_len = 64; /* capped: only the header is echoed */
	struct nlmsghdr *h = fake_msg(&f, NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS, 7, &e, sizeof(e));
	const char text[] = "Unknown device type";
	fake_attr(&f, h, NLMSGERR_ATTR_MSG, text, sizeof(text));
	struct nl_reply r = {0};
	struct skiff_err *err = NULL;
	assert_int_equal(nl_reply_parse(f.u.b, f.len, 7, &r, &err), 0);
	assert_int_equal(r.error, EINVAL);
	assert_string_equal(r.msg, text);

	/* an unterminated, over-long text is cut, not overrun */
	f.len = 0;
	h = fake_msg(&f, NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS, 7, &e, sizeof(e));
	char longtext[400];
	memset(longtext, 'y', sizeof(longtext));
	fake_attr(&f, h, NLMSGERR_ATTR_MSG, longtext, sizeof(longtext));
	memset(&r, 0, sizeof(r));
	assert_int_equal(nl_reply_parse(f.u.b, f.len, 7, &r, &err), 0);
	assert_int_equal(strlen(r.msg), sizeof(r.msg) - 1);

	/* TLVs that lie about their length: the errno stands, the text is dropped */
	f.len = 0;
	h = fake_msg(&f, NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS, 7, &e, sizeof(e));
	fake_attr(&f, h, NLMSGERR_ATTR_MSG, text, sizeof(text));
	((struct rtattr *)(f.u.b + NLMSG_HDRLEN + sizeof(e)))->rta_len = 2000;
	memset(&r, 0, sizeof(r));
	assert_int_equal(nl_reply_parse(f.u.b, f.len, 7, &r, &err), 0);
	assert_int_equal(r.error, EINVAL);
	assert_string_equal(r.msg, "");
}

static struct nlmsghdr *fake_link(struct fake *f, int index, const char *name)
{
	struct ifinfomsg ifi = {.ifi_index = index, .ifi_flags = IFF_UP};
	struct nlmsghdr *h = fake_msg(f, RTM_NEWLINK, 0, 7, &ifi, sizeof(ifi));
	if (name)
		fake_attr(f, h, IFLA_IFNAME, name, strlen(name) + 1);
	return h;
}

static void test_link(void **state)
{
	(void)state;
	struct fake f = {.len = 0};
	struct nlmsghdr *h = fake_link(&f, 5, "skiff0");
	uint32_t mtu = 1500, master = 3;
	fake_attr(&f, h, IFLA_MTU, &mtu, sizeof(mtu));
	fake_attr(&f, h, IFLA_MASTER, &master, sizeof(master));
	/* IFLA_LINKINFO { IFLA_INFO_KIND "bridge" } */
	unsigned char li[RTA_SPACE(7)];
	struct rtattr *k = (struct rtattr *)li;
	k->rta_type = IFLA_INFO_KIND;
	k->rta_len = RTA_LENGTH(7);
	memcpy(RTA_DATA(k), "bridge", 7);
	fake_attr(&f, h, IFLA_LINKINFO | NLA_F_NESTED, li, sizeof(li));
	fake_ack(&f, 7, 0);
	struct nl_reply r = {.want = RTM_NEWLINK};
	struct skiff_err *err = NULL;
	assert_int_equal(nl_reply_parse(f.u.b, f.len, 7, &r, &err), 0);
	assert_true(r.done && r.have_link && r.have);
	assert_int_equal(r.link.index, 5);
	assert_string_equal(r.link.name, "skiff0");
	assert_int_equal(r.link.mtu, 1500);
	assert_int_equal(r.link.master, 3);
	assert_string_equal(r.link.kind, "bridge");
	assert_true(r.link.flags & IFF_UP);
	assert_true(r.payload_len >= sizeof(struct ifinfomsg));

	/* a name longer than IFNAMSIZ and without its NUL is cut */
	f.len = 0;
	h = fake_link(&f, 6, NULL);
	fake_attr(&f, h, IFLA_IFNAME, "abcdefghijklmnopqrstuvwxyz", 26);
	memset(&r, 0, sizeof(r));
	assert_int_equal(nl_reply_parse(f.u.b, f.len, 7, &r, &err), 0);
	assert_int_equal(strlen(r.link.name), 15);
}

static void test_hostile(void **state)
{
	(void)state;
	struct fake f = {.len = 0};
	fake_ack(&f, 7, 0);
	parse_bad(&f, 10, "truncated header");
	/* a message claiming more than the datagram holds */
	((struct nlmsghdr *)f.u.b)->nlmsg_len = 4000;
	parse_bad(&f, f.len, "length out of bounds");
	/* and one claiming less than its header */
	((struct nlmsghdr *)f.u.b)->nlmsg_len = 8;
	parse_bad(&f, f.len, "length out of bounds");
	/* an error message too short for its code */
	f.len = 0;
	fake_msg(&f, NLMSG_ERROR, 0, 7, "ab", 2);
	parse_bad(&f, f.len, "short error message");
	/* a positive or absurd error code */
	f.len = 0;
	fake_ack(&f, 7, 5);
	parse_bad(&f, f.len, "error code out of range");
	f.len = 0;
	fake_ack(&f, 7, -100000);
	parse_bad(&f, f.len, "error code out of range");
	/* a link message shorter than ifinfomsg */
	f.len = 0;
	fake_msg(&f, RTM_NEWLINK, 0, 7, "abcd", 4);
	parse_bad(&f, f.len, "short link message");
	/* an attribute running past its message, at a named offset */
	f.len = 0;
	struct nlmsghdr *h = fake_link(&f, 5, "eth0");
	((struct rtattr *)((unsigned char *)h + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct ifinfomsg))))->rta_len = 300;
	parse_bad(&f, f.len, "bad link attribute at offset 32");
	/* an attribute shorter than its own header */
	((struct rtattr *)((unsigned char *)h + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct ifinfomsg))))->rta_len = 2;
	parse_bad(&f, f.len, "bad link attribute");
	/* an MTU of two bytes */
	f.len = 0;
	h = fake_link(&f, 5, "eth0");
	fake_attr(&f, h, IFLA_MTU, "ab", 2);
	parse_bad(&f, f.len, "bad link attribute");
	/* malformed messages for other requests are still malformed */
	f.len = 0;
	fake_ack(&f, 99, 0);
	((struct nlmsghdr *)f.u.b)->nlmsg_len = 3;
	parse_bad(&f, f.len, "length out of bounds");
	/* an empty datagram is no answer, not a crash */
	struct nl_reply r = {0};
	struct skiff_err *err = NULL;
	assert_int_equal(nl_reply_parse(f.u.b, 0, 7, &r, &err), 0);
	assert_false(r.done);
}

static void test_attr_find_hostile(void **state)
{
	(void)state;
	unsigned char b[16] = {0};
	struct rtattr *a = (struct rtattr *)b;
	a->rta_type = 1;
	a->rta_len = 200;
	const void *d;
	size_t dl;
	assert_int_equal(nl_attr_find(b, sizeof(b), 1, &d, &dl), -1);
	assert_int_equal(nl_attr_find(b, 3, 1, &d, &dl), -1);
	a->rta_len = RTA_LENGTH(4);
	assert_int_equal(nl_attr_find(b, sizeof(b), 1, &d, &dl), 0);
	assert_int_equal(dl, 4);
}

static void test_args_checked_first(void **state)
{
	(void)state;
	struct nl_sock s = NL_SOCK_INIT; /* never used: every call fails before sending */
	struct skiff_err *err = NULL;
	const char *bad_cidrs[] = {"10.0.0.1",	 "10.0.0.1/",	"10.0.0.1/33", "fd00::1/129",
				   "nonsense/8", "10.0.0.1/8x", "10.0.0.1/-1"};
	for (size_t i = 0; i < sizeof(bad_cidrs) / sizeof(*bad_cidrs); i++) {
		assert_int_equal(nl_addr_add(&s, 1, bad_cidrs[i], 0, &err), -1);
		assert_int_equal(err_status(err), EINVAL);
		if (!strstr(err->msg, bad_cidrs[i]))
			fail_msg("\"%s\" does not name %s", err->msg, bad_cidrs[i]);
		err_clear(&err);
	}
	assert_int_equal(nl_route_add_default(&s, 1, "10.0.0.300", 0, &err), -1);
	assert_non_null(strstr(err->msg, "10.0.0.300"));
	err_clear(&err);
	assert_int_equal(nl_veth_create(&s, "a-name-far-too-long", "eth0", -1, 0, NULL, &err), -1);
	assert_int_equal(err_status(err), EINVAL);
	assert_non_null(strstr(err->msg, "a-name-far-too-long"));
	err_clear(&err);
	assert_int_equal(nl_link_del(&s, "", &err), -1);
	assert_int_equal(err_status(err), EINVAL);
	err_clear(&err);
	struct nl_link l;
	assert_int_equal(nl_link_get(&s, "0123456789abcdefX", 0, &l, &err), -1);
	assert_int_equal(err_status(err), EINVAL);
	err_clear(&err);
	/* a missing namespace file is named */
	struct nl_sock ns;
	assert_int_equal(nl_open_netns("/nonexistent/netns", &ns, &err), -1);
	assert_int_equal(err_status(err), ENOENT);
	assert_non_null(strstr(err->msg, "/nonexistent/netns"));
	err_clear(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_veth),
		cmocka_unit_test(test_build_overflow),
		cmocka_unit_test(test_ack),
		cmocka_unit_test(test_ext_ack),
		cmocka_unit_test(test_link),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_attr_find_hostile),
		cmocka_unit_test(test_args_checked_first),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
