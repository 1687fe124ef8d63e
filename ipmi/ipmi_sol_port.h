/* ipmi/ipmi_sol_port: SOL's console on serial/serial.h (ipmi_sol_port.c).
 * Opened and closed by the IPMI thread's owner (ipmi_start/ipmi_stop);
 * the port's functions run on the IPMI thread; the wake fd becomes
 * readable when the console has new output. */
#ifndef PIGLIX_IPMI_SOL_PORT_H
#define PIGLIX_IPMI_SOL_PORT_H

#include "ipmi/ipmi_sol.h"

struct serial_console;
struct ipmi_sol_serial;

/* NULL when out of memory or descriptors (then SOL is not offered). */
struct ipmi_sol_serial *ipmi_sol_serial_open(struct serial_console *con);
const struct ipmi_sol_port *ipmi_sol_serial_port(struct ipmi_sol_serial *ps);
int ipmi_sol_serial_wake_fd(const struct ipmi_sol_serial *ps);
/* Whether new output should wake the IPMI thread (an instance is active). */
void ipmi_sol_serial_want(struct ipmi_sol_serial *ps, bool want);
/* After the IPMI thread stopped. NULL is fine. */
void ipmi_sol_serial_close(struct ipmi_sol_serial *ps);

#endif
