//! Items (actions, account validators, triggers) as the module and the
//! tooling see them: how an item is registered on a [`Module`](crate::Module),
//! stored type-erased ([`registration`]), and the manifest it is described
//! by, in the platform's shape ([`manifest`]).

pub(crate) mod manifest;
pub(crate) mod registration;
