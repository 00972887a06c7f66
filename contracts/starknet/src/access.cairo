//! Role-based access control, as OpenZeppelin's `AccessControl` does it for the Solidity contracts: roles are
//! felts (`DEFAULT_ADMIN_ROLE` is 0, the others are short strings such as `'COORDINATOR_ROLE'`), each role has an
//! admin role whose holders grant and revoke it, and every change is an event.
use starknet::ContractAddress;

pub const DEFAULT_ADMIN_ROLE: felt252 = 0;

#[starknet::interface]
pub trait IAccessControl<TState> {
    fn has_role(self: @TState, role: felt252, account: ContractAddress) -> bool;
    fn get_role_admin(self: @TState, role: felt252) -> felt252;
    fn grant_role(ref self: TState, role: felt252, account: ContractAddress);
    fn revoke_role(ref self: TState, role: felt252, account: ContractAddress);
    fn renounce_role(ref self: TState, role: felt252, account: ContractAddress);
}

pub mod errors {
    pub const MISSING_ROLE: felt252 = 'AccessControl: missing role';
    pub const BAD_CONFIRMATION: felt252 = 'AccessControl: bad confirmation';
}

#[starknet::component]
pub mod AccessControlComponent {
    use starknet::storage::{
        Map, StorageMapReadAccess, StorageMapWriteAccess, StoragePathEntry, StoragePointerReadAccess,
    };
    use starknet::{ContractAddress, get_caller_address};
    use super::errors;

    #[storage]
    pub struct Storage {
        pub AccessControl_members: Map<(felt252, ContractAddress), bool>,
        pub AccessControl_admin: Map<felt252, felt252>,
    }

    #[event]
    #[derive(Drop, PartialEq, starknet::Event)]
    pub enum Event {
        RoleGranted: RoleGranted,
        RoleRevoked: RoleRevoked,
        RoleAdminChanged: RoleAdminChanged,
    }

    /// `account` was granted `role` by `sender`.
    #[derive(Drop, PartialEq, starknet::Event)]
    pub struct RoleGranted {
        #[key]
        pub role: felt252,
        #[key]
        pub account: ContractAddress,
        #[key]
        pub sender: ContractAddress,
    }

    /// `account` lost `role`, taken by `sender` (the account itself when it renounced).
    #[derive(Drop, PartialEq, starknet::Event)]
    pub struct RoleRevoked {
        #[key]
        pub role: felt252,
        #[key]
        pub account: ContractAddress,
        #[key]
        pub sender: ContractAddress,
    }

    /// `role`'s admin role changed.
    #[derive(Drop, PartialEq, starknet::Event)]
    pub struct RoleAdminChanged {
        #[key]
        pub role: felt252,
        #[key]
        pub previous_admin_role: felt252,
        #[key]
        pub new_admin_role: felt252,
    }

    #[embeddable_as(AccessControlImpl)]
    impl AccessControl<
        TContractState, +HasComponent<TContractState>,
    > of super::IAccessControl<ComponentState<TContractState>> {
        fn has_role(self: @ComponentState<TContractState>, role: felt252, account: ContractAddress) -> bool {
            self.AccessControl_members.read((role, account))
        }

        fn get_role_admin(self: @ComponentState<TContractState>, role: felt252) -> felt252 {
            self.AccessControl_admin.read(role)
        }

        fn grant_role(ref self: ComponentState<TContractState>, role: felt252, account: ContractAddress) {
            let admin = self.AccessControl_admin.read(role);
            self.assert_only_role(admin);
            self._grant_role(role, account);
        }

        fn revoke_role(ref self: ComponentState<TContractState>, role: felt252, account: ContractAddress) {
            let admin = self.AccessControl_admin.read(role);
            self.assert_only_role(admin);
            self._revoke_role(role, account);
        }

        fn renounce_role(ref self: ComponentState<TContractState>, role: felt252, account: ContractAddress) {
            assert(get_caller_address() == account, errors::BAD_CONFIRMATION);
            self._revoke_role(role, account);
        }
    }

    #[generate_trait]
    pub impl InternalImpl<
        TContractState, +HasComponent<TContractState>,
    > of InternalTrait<TContractState> {
        /// Panics with `AccessControl: missing role` unless the caller holds `role`.
        fn assert_only_role(self: @ComponentState<TContractState>, role: felt252) {
            let caller = get_caller_address();
            assert(self.AccessControl_members.entry((role, caller)).read(), errors::MISSING_ROLE);
        }

        fn _grant_role(ref self: ComponentState<TContractState>, role: felt252, account: ContractAddress) {
            if !self.AccessControl_members.read((role, account)) {
                self.AccessControl_members.write((role, account), true);
                self.emit(RoleGranted { role, account, sender: get_caller_address() });
            }
        }

        fn _revoke_role(ref self: ComponentState<TContractState>, role: felt252, account: ContractAddress) {
            if self.AccessControl_members.read((role, account)) {
                self.AccessControl_members.write((role, account), false);
                self.emit(RoleRevoked { role, account, sender: get_caller_address() });
            }
        }

        fn _set_role_admin(ref self: ComponentState<TContractState>, role: felt252, admin_role: felt252) {
            let previous_admin_role = self.AccessControl_admin.read(role);
            self.AccessControl_admin.write(role, admin_role);
            self.emit(RoleAdminChanged { role, previous_admin_role, new_admin_role: admin_role });
        }
    }
}
