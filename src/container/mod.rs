//! Which container or service a process runs in, from its cgroup v2 path
//! alone (no daemon, no container runtime API): the naming both tools'
//! `--container` share.
//!
//! Container runtimes name the cgroup of a container after its id, in one of
//! two schemes: with the systemd cgroup driver, a scope `<runtime>-<id>.scope`
//! (Docker `docker-`, containerd's CRI plugin `cri-containerd-`, CRI-O
//! `crio-`, Podman `libpod-`); with the cgroupfs driver, a directory named
//! `<id>` (Docker under `/docker/`, Kubernetes pods under
//! `/kubepods/<class>/pod<uid>/`) or `<runtime>-<id>` (CRI-O, Podman). The id
//! is 64 lowercase hex digits. Processes outside containers are in a systemd
//! unit (`sshd.service`) or scope (`session-4.scope`), or in a cgroup of
//! someone's own making.
//!
//! Whoever creates a cgroup chooses its name: every byte of it is escaped
//! where it is printed.

pub mod table;

use crate::output::escape::push_padded;
use crate::output::json::JsonObject;

/// The cgroup path prefixes of the runtimes' systemd scopes and of CRI-O's
/// and Podman's cgroupfs directories. Their monitors (`crio-conmon-<id>`,
/// `libpod-conmon-<id>`) run outside the container and are not taken for it.
const RUNTIME_PREFIXES: [&[u8]; 4] = [b"docker-", b"cri-containerd-", b"crio-", b"libpod-"];
/// A container id, in hex digits; the column shows the first 12, as `docker ps`.
const CONTAINER_ID_LEN: usize = 64;
const SHORT_ID_LEN: usize = 12;
/// The CONTAINER column's width.
pub const COLUMN_WIDTH: usize = 12;
/// How a cgroup path too long or too deep to be read whole starts: the
/// kernel keeps its leaf side. Never the start of a real path (always `/`).
const CUT_MARK: &[u8] = b"...";

/// A cgroup v2 path, relative to the cgroup2 mount (`/` is its root), as
/// the kernel read it at the event; `cut` when only its leaf side is there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CgroupPath<'a> {
    pub path: &'a [u8],
    pub cut: bool,
}

/// What the CONTAINER column names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload<'a> {
    /// A container, by its full id.
    Container(&'a str),
    /// A systemd unit or scope, by its name.
    Unit(&'a [u8]),
    /// Neither: the cgroup itself.
    Cgroup,
    /// The root cgroup.
    Root,
}

impl<'a> CgroupPath<'a> {
    /// The path's components, root side first.
    fn components(&self) -> impl DoubleEndedIterator<Item = &'a [u8]> {
        self.path.split(|&b| b == b'/').filter(|c| !c.is_empty())
    }

    /// The innermost container, else the innermost unit (a unit's own
    /// `init.scope`, where systemd puts the unit's main process when it
    /// has sub-cgroups, is taken as that unit), else the cgroup.
    pub fn workload(&self) -> Workload<'a> {
        if let Some(id) = self.components().rev().find_map(container_id) {
            return Workload::Container(id);
        }
        let mut units = self.components().rev().filter(|c| is_unit(c));
        match (units.next(), units.next()) {
            (Some(b"init.scope"), Some(enclosing)) => Workload::Unit(enclosing),
            (Some(unit), _) => Workload::Unit(unit),
            (None, _) if self.components().next().is_none() && !self.cut => Workload::Root,
            (None, _) => Workload::Cgroup,
        }
    }

    /// Appends the path as shown: `.../leaf/side` when cut.
    pub fn push_shown(&self, out: &mut Vec<u8>) {
        if self.cut {
            out.extend_from_slice(CUT_MARK);
        }
        out.extend_from_slice(self.path);
    }

    /// The CONTAINER column, padded, followed by a space: the short
    /// container id, the unit, the cgroup path, or `-` for the root.
    pub fn push_column(&self, out: &mut Vec<u8>) {
        let mut shown = Vec::new();
        let text: &[u8] = match self.workload() {
            Workload::Container(id) => &id.as_bytes()[..SHORT_ID_LEN],
            Workload::Unit(unit) => unit,
            Workload::Cgroup => {
                self.push_shown(&mut shown);
                &shown
            }
            Workload::Root => b"-",
        };
        push_padded(out, text, COLUMN_WIDTH);
        out.push(b' ');
    }

    /// The JSON fields: `cgroup`, the path as shown, and `container_id`
    /// when the path names a container.
    pub fn push_json(&self, object: &mut JsonObject<'_>) {
        let mut shown = Vec::with_capacity(self.path.len() + CUT_MARK.len());
        self.push_shown(&mut shown);
        object.string("cgroup", &shown);
        if let Workload::Container(id) = self.workload() {
            object.string("container_id", id.as_bytes());
        }
    }
}

/// The CONTAINER column of an event: what its cgroup names, or `?` when the
/// kernel could not read the cgroup.
pub fn push_column_of(out: &mut Vec<u8>, cgroup: Option<&CgroupPath<'_>>) {
    match cgroup {
        Some(cgroup) => cgroup.push_column(out),
        None => {
            push_padded(out, b"?", COLUMN_WIDTH);
            out.push(b' ');
        }
    }
}

/// The container id a cgroup name carries, in either naming scheme.
fn container_id(name: &[u8]) -> Option<&str> {
    let name = name.strip_suffix(b".scope").unwrap_or(name);
    let id = RUNTIME_PREFIXES
        .iter()
        .find_map(|prefix| name.strip_prefix(*prefix))
        .unwrap_or(name);
    let hex = |b: &u8| b.is_ascii_digit() || (b'a'..=b'f').contains(b);
    match id.len() == CONTAINER_ID_LEN && id.iter().all(hex) {
        true => std::str::from_utf8(id).ok(),
        false => None,
    }
}

/// Whether a cgroup name is a systemd service or scope.
fn is_unit(name: &[u8]) -> bool {
    name.ends_with(b".service") || name.ends_with(b".scope")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "4f1c2b3a5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7a8";

    fn workload(path: &str) -> Workload<'_> {
        CgroupPath {
            path: path.as_bytes(),
            cut: false,
        }
        .workload()
    }

    fn column(path: &[u8], cut: bool) -> String {
        let mut out = Vec::new();
        CgroupPath { path, cut }.push_column(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn docker_in_both_schemes() {
        let systemd = format!("/system.slice/docker-{ID}.scope");
        assert_eq!(workload(&systemd), Workload::Container(ID));
        assert_eq!(workload(&format!("/docker/{ID}")), Workload::Container(ID));
    }

    #[test]
    fn kubernetes_pods_with_containerd_and_cri_o_in_both_schemes() {
        let pod = "kubepods-burstable-pod0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0.slice";
        let containerd =
            format!("/kubepods.slice/kubepods-burstable.slice/{pod}/cri-containerd-{ID}.scope");
        assert_eq!(workload(&containerd), Workload::Container(ID));
        let cri_o = format!("/kubepods.slice/kubepods-burstable.slice/{pod}/crio-{ID}.scope");
        assert_eq!(workload(&cri_o), Workload::Container(ID));
        let pod = "pod0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
        let cgroupfs = format!("/kubepods/besteffort/{pod}/{ID}");
        assert_eq!(workload(&cgroupfs), Workload::Container(ID));
        let cri_o_cgroupfs = format!("/kubepods/{pod}/crio-{ID}");
        assert_eq!(workload(&cri_o_cgroupfs), Workload::Container(ID));
    }

    #[test]
    fn podman_in_both_schemes_root_and_rootless() {
        let root = format!("/machine.slice/libpod-{ID}.scope");
        assert_eq!(workload(&root), Workload::Container(ID));
        let rootless =
            format!("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{ID}.scope");
        assert_eq!(workload(&rootless), Workload::Container(ID));
        assert_eq!(
            workload(&format!("/libpod_parent/libpod-{ID}")),
            Workload::Container(ID)
        );
        // Podman's split mode: the container's processes in a child cgroup.
        let split = format!("/machine.slice/libpod-{ID}.scope/container");
        assert_eq!(workload(&split), Workload::Container(ID));
    }

    #[test]
    fn the_innermost_container_is_named() {
        let inner = ID.replace('4', "9");
        let nested = format!("/system.slice/docker-{ID}.scope/docker/{inner}");
        assert_eq!(workload(&nested), Workload::Container(&inner));
    }

    #[test]
    fn monitors_and_look_alikes_are_not_containers() {
        let conmon = format!("/machine.slice/libpod-conmon-{ID}.scope");
        assert_eq!(
            workload(&conmon),
            Workload::Unit(format!("libpod-conmon-{ID}.scope").as_bytes())
        );
        let short = "/docker/4f1c2b3a5d6e";
        assert_eq!(workload(short), Workload::Cgroup);
        let upper = format!("/docker/{}", ID.to_uppercase());
        assert_eq!(workload(&upper), Workload::Cgroup);
        let unknown_runtime = format!("/x/runc-{ID}.scope");
        assert_eq!(
            workload(&unknown_runtime),
            Workload::Unit(format!("runc-{ID}.scope").as_bytes())
        );
    }

    #[test]
    fn systemd_units_and_scopes() {
        assert_eq!(
            workload("/system.slice/sshd.service"),
            Workload::Unit(b"sshd.service")
        );
        assert_eq!(
            workload("/user.slice/user-1000.slice/session-4.scope"),
            Workload::Unit(b"session-4.scope")
        );
        assert_eq!(
            workload("/user.slice/user-1000.slice/user@1000.service/init.scope"),
            Workload::Unit(b"user@1000.service")
        );
        assert_eq!(
            workload("/user.slice/user-1000.slice/user@1000.service/app.slice/app-x-1.scope"),
            Workload::Unit(b"app-x-1.scope")
        );
        // PID 1 itself.
        assert_eq!(workload("/init.scope"), Workload::Unit(b"init.scope"));
        // Below a unit, in cgroups of its own (systemd's Delegate=).
        assert_eq!(
            workload("/system.slice/build.service/job-7"),
            Workload::Unit(b"build.service")
        );
    }

    #[test]
    fn other_cgroups_are_shown_by_path_and_the_root_as_a_dash() {
        assert_eq!(workload("/mygroup/sub"), Workload::Cgroup);
        assert_eq!(workload("/"), Workload::Root);
        assert_eq!(column(b"/", false), "-            ");
        assert_eq!(column(b"/mygroup/sub", false), "/mygroup/sub ");
        assert_eq!(
            column(b"/system.slice/cron.service", false),
            "cron.service "
        );
        let docker = format!("/docker/{ID}");
        assert_eq!(column(docker.as_bytes(), false), "4f1c2b3a5d6e ");
    }

    #[test]
    fn a_cut_path_keeps_its_leaf_side_and_says_so() {
        let leaf = format!("/deep/docker-{ID}.scope");
        assert_eq!(
            CgroupPath {
                path: leaf.as_bytes(),
                cut: true
            }
            .workload(),
            Workload::Container(ID)
        );
        assert_eq!(column(b"/c/d", true), ".../c/d      ");
        // Cut before any name fitted: not the root.
        assert_eq!(column(b"", true), "...          ");
    }

    #[test]
    fn names_are_escaped() {
        assert_eq!(
            column(b"/evil\n1 2 3\x1b[2J", false),
            "/evil\\n1 2 3\\x1b[2J "
        );
        assert_eq!(column(b"/x/a\nb.service", false), "a\\nb.service ");
    }

    #[test]
    fn json_has_the_path_and_the_full_id() {
        let path = format!("/system.slice/docker-{ID}.scope");
        let mut out = Vec::new();
        let mut object = JsonObject::begin(&mut out);
        CgroupPath {
            path: path.as_bytes(),
            cut: false,
        }
        .push_json(&mut object);
        object.end();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("{{\"cgroup\":\"{path}\",\"container_id\":\"{ID}\"}}\n")
        );
        let mut out = Vec::new();
        let mut object = JsonObject::begin(&mut out);
        CgroupPath {
            path: b"/a",
            cut: true,
        }
        .push_json(&mut object);
        object.end();
        assert_eq!(String::from_utf8(out).unwrap(), "{\"cgroup\":\".../a\"}\n");
    }
}
