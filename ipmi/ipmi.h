/* web/ipmi: IPMI 2.0 over LAN (RMCP+, UDP [ipmi] port, 623), so fleet
 * tools (ipmitool, freeipmi, Ironic, MAAS) can treat piglix as the BMC of
 * the server it is wired to. One thread with its UDP socket(s) ([ipmi]
 * listen: "0.0.0.0", "::" for IPv6 and IPv4, or one address).
 *
 * It answers the RMCP presence ping, opens sessions with cipher suites 3
 * and 17 only (cipher suite 0 and IPMI 1.5 logins are refused) for the
 * web accounts that have an IPMI password (`piglix user ipmi-passwd NAME`,
 * web/ipmi_users.h), and serves the device (Get Device ID, System GUID,
 * Self Test), the chassis (status and control through atx/atx.h) and the
 * sensors (SDR repository and readings from atx/sensors.h). Every
 * account may reach the Administrator level. web/IPMI.md lists the
 * commands. */
#ifndef PIGLIX_WEB_IPMI_H
#define PIGLIX_WEB_IPMI_H

struct piglix_config;
struct atx;
struct sensors;
struct ipmi;

/* With [ipmi] enabled: loads or makes the system GUID ([state] dir/
 * ipmi.guid), binds the socket(s) and starts the thread; NULL after
 * logging why. With IPMI disabled: removes any stored IPMI passwords
 * (they are kept only while IPMI is on) and returns NULL. atx and sensors
 * (each NULL: none) must outlive the IPMI thread. */
struct ipmi *ipmi_start(const struct piglix_config *cfg, struct atx *atx, struct sensors *sensors);

/* Stops the thread, ends every session, frees. NULL is fine. */
void ipmi_stop(struct ipmi *ipmi);

#endif
