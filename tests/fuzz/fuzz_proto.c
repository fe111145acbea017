/*
 * fuzz_proto.c: libFuzzer harness for the protocol decoders.  The input
 * is a byte stream as a socket or channel would deliver it: frames are
 * taken off it and each payload goes through the decoder of its type.
 *
 *	make fuzz	(builds build/fuzz/fuzz_proto with clang; then run it)
 */
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf *in, *p;
	struct spawn_req sq;
	struct proc_info pi;
	struct node_info ni;
	struct list_req lr;
	struct signal_req sr;
	struct load_report lo;
	struct shep_spec ss;
	struct shep_info si;
	struct migrate_result mr;
	struct move_req mq;
	struct move_spec ms;
	uint8_t type;

	if ((in = buf_from(data, size, PROTO_MAX_FRAME * 2)) == NULL)
		return 0;
	while (proto_frame_take(in, &type, &p) == 0) {
		switch (type % 11) {
		case 0:
			if (spawn_req_get(p, &sq) == 0)
				spawn_req_clear(&sq);
			break;
		case 1:
			if (proc_info_get(p, &pi) == 0)
				proc_info_clear(&pi);
			break;
		case 2:
			if (node_info_get(p, &ni) == 0)
				node_info_clear(&ni);
			break;
		case 3:
			if (list_req_get(p, &lr) == 0)
				list_req_clear(&lr);
			break;
		case 4:
			if (signal_req_get(p, &sr) == 0)
				signal_req_clear(&sr);
			break;
		case 5:
			(void)load_report_get(p, &lo);
			break;
		case 6:
			if (shep_spec_get(p, &ss) == 0)
				shep_spec_clear(&ss);
			break;
		case 7:
			if (migrate_result_get(p, &mr) == 0)
				migrate_result_clear(&mr);
			break;
		case 8:
			if (move_req_get(p, &mq) == 0)
				move_req_clear(&mq);
			break;
		case 9:
			if (move_spec_get(p, &ms) == 0)
				move_spec_clear(&ms);
			break;
		default:
			(void)shep_info_get(p, &si);
			break;
		}
		buf_free(p);
	}
	buf_free(in);
	return 0;
}
