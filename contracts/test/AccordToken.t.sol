// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {Votes} from "@openzeppelin/contracts/governance/utils/Votes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

import {AccordToken} from "../src/AccordToken.sol";
import {Fixture} from "./utils/Fixture.sol";

/// @notice Unit tests of {AccordToken}: supply cap, EIP-2612 permit and ERC20Votes checkpoints.
contract AccordTokenTest is Fixture {
    bytes32 internal constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");
    bytes32 internal constant DELEGATION_TYPEHASH =
        keccak256("Delegation(address delegatee,uint256 nonce,uint256 expiry)");
    uint256 internal constant SUPPLY = 1_000_000_000e18; // devnet config
    uint256 internal constant MAX_U96 = type(uint96).max;

    uint256 internal workerKey = uint256(keccak256("worker"));
    uint256 internal strangerKey = uint256(keccak256("stranger"));

    // ------------------------------------------------------------------ helpers

    function _digest(bytes32 structHash) internal view returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", token.DOMAIN_SEPARATOR(), structHash));
    }

    function _permitDigest(address owner, address spender, uint256 value, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes32)
    {
        return _digest(keccak256(abi.encode(PERMIT_TYPEHASH, owner, spender, value, nonce, deadline)));
    }

    function _signPermit(uint256 key, address owner, address spender, uint256 value, uint256 deadline)
        internal
        view
        returns (uint8 v, bytes32 r, bytes32 s)
    {
        (v, r, s) = vm.sign(key, _permitDigest(owner, spender, value, token.nonces(owner), deadline));
    }

    // --------------------------------------------------------------- constructor

    function test_constructor_MintsWholeSupplyToHolder() public view {
        vm.assertEq(token.totalSupply(), SUPPLY);
        // The fixture funded client, worker and worker2 from the holder.
        vm.assertEq(token.balanceOf(holder), SUPPLY - 1_000_000e18 - 2 * 100_000e18);
        vm.assertEq(keccak256(bytes(token.name())), keccak256("Accord"));
        vm.assertEq(keccak256(bytes(token.symbol())), keccak256("ACRD"));
        vm.assertEq(uint256(token.decimals()), 18);
    }

    function test_constructor_AcceptsSupplyOfExactlyUint96Max() public {
        AccordToken t = new AccordToken(stranger, MAX_U96);
        vm.assertEq(t.totalSupply(), MAX_U96);
        vm.assertEq(t.balanceOf(stranger), MAX_U96);
    }

    function test_constructor_AcceptsZeroSupply() public {
        AccordToken t = new AccordToken(stranger, 0);
        vm.assertEq(t.totalSupply(), 0);
    }

    function test_constructor_EmitsMintTransfer() public {
        vm.expectEmit();
        emit IERC20.Transfer(address(0), stranger, 123e18);
        AccordToken t = new AccordToken(stranger, 123e18);
        vm.assertEq(t.balanceOf(stranger), 123e18);
    }

    function test_constructor_RevertWhen_SupplyTooLarge() public {
        vm.expectRevert(abi.encodeWithSelector(AccordToken.SupplyTooLarge.selector, MAX_U96 + 1, MAX_U96));
        new AccordToken(stranger, MAX_U96 + 1);
    }

    function test_constructor_RevertWhen_SupplyIsUint256Max() public {
        vm.expectRevert(abi.encodeWithSelector(AccordToken.SupplyTooLarge.selector, type(uint256).max, MAX_U96));
        new AccordToken(stranger, type(uint256).max);
    }

    function test_constructor_RevertWhen_HolderIsZero() public {
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InvalidReceiver.selector, address(0)));
        new AccordToken(address(0), SUPPLY);
    }

    // -------------------------------------------------------------------- permit

    function test_permit_DomainSeparatorMatchesEip712() public view {
        bytes32 expected = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("Accord"),
                keccak256("1"),
                block.chainid,
                address(token)
            )
        );
        vm.assertEq(token.DOMAIN_SEPARATOR(), expected);
    }

    function test_permit_SetsAllowanceFromSignature() public {
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = _signPermit(workerKey, worker, stranger, 500e18, deadline);
        vm.assertEq(token.nonces(worker), 0);

        vm.expectEmit(address(token));
        emit IERC20.Approval(worker, stranger, 500e18);
        // Anyone may submit the signed permit.
        vm.prank(client);
        token.permit(worker, stranger, 500e18, deadline, v, r, s);

        vm.assertEq(token.allowance(worker, stranger), 500e18);
        vm.assertEq(token.nonces(worker), 1);

        uint256 before = token.balanceOf(worker);
        vm.prank(stranger);
        token.transferFrom(worker, stranger, 500e18);
        vm.assertEq(token.balanceOf(stranger), 500e18);
        vm.assertEq(token.balanceOf(worker), before - 500e18);
        vm.assertEq(token.allowance(worker, stranger), 0);
    }

    function test_permit_WorksAtExactlyDeadline() public {
        uint256 deadline = block.timestamp;
        (uint8 v, bytes32 r, bytes32 s) = _signPermit(workerKey, worker, stranger, 1e18, deadline);
        token.permit(worker, stranger, 1e18, deadline, v, r, s);
        vm.assertEq(token.allowance(worker, stranger), 1e18);
    }

    function test_permit_RevertWhen_Expired() public {
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = _signPermit(workerKey, worker, stranger, 1e18, deadline);
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(ERC20Permit.ERC2612ExpiredSignature.selector, deadline));
        token.permit(worker, stranger, 1e18, deadline, v, r, s);
    }

    function test_permit_RevertWhen_SignedByAnotherKey() public {
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = _signPermit(strangerKey, worker, stranger, 1e18, deadline);
        vm.expectRevert(abi.encodeWithSelector(ERC20Permit.ERC2612InvalidSigner.selector, stranger, worker));
        token.permit(worker, stranger, 1e18, deadline, v, r, s);
        vm.assertEq(token.allowance(worker, stranger), 0);
    }

    function test_permit_RevertWhen_Replayed() public {
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = _signPermit(workerKey, worker, stranger, 1e18, deadline);
        token.permit(worker, stranger, 1e18, deadline, v, r, s);

        // With the nonce consumed, the same signature recovers to some other address.
        address recovered = ecrecover(_permitDigest(worker, stranger, 1e18, 1, deadline), v, r, s);
        vm.assertTrue(recovered != worker);
        vm.expectRevert(abi.encodeWithSelector(ERC20Permit.ERC2612InvalidSigner.selector, recovered, worker));
        token.permit(worker, stranger, 1e18, deadline, v, r, s);
    }

    function test_permit_RevertWhen_ValueAltered() public {
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = _signPermit(workerKey, worker, stranger, 1e18, deadline);
        address recovered = ecrecover(_permitDigest(worker, stranger, 2e18, 0, deadline), v, r, s);
        vm.expectRevert(abi.encodeWithSelector(ERC20Permit.ERC2612InvalidSigner.selector, recovered, worker));
        token.permit(worker, stranger, 2e18, deadline, v, r, s);
    }

    // --------------------------------------------------------------------- votes

    function test_votes_ClockIsBlockNumber() public {
        vm.assertEq(uint256(token.clock()), block.number);
        vm.assertEq(keccak256(bytes(token.CLOCK_MODE())), keccak256("mode=blocknumber&from=default"));
        vm.roll(block.number + 5);
        vm.assertEq(uint256(token.clock()), 105);
    }

    function test_votes_BalanceCountsOnlyAfterDelegation() public {
        uint256 bal = token.balanceOf(worker);
        vm.assertEq(token.getVotes(worker), 0);
        vm.assertEq(token.delegates(worker), address(0));

        vm.expectEmit(address(token));
        emit IVotes.DelegateChanged(worker, address(0), worker);
        vm.expectEmit(address(token));
        emit IVotes.DelegateVotesChanged(worker, 0, bal);
        vm.prank(worker);
        token.delegate(worker);

        vm.assertEq(token.delegates(worker), worker);
        vm.assertEq(token.getVotes(worker), bal);
    }

    function test_votes_GetPastVotesAfterRoll() public {
        uint256 bal = token.balanceOf(worker);
        uint256 delegatedAt = block.number; // 100
        vm.prank(worker);
        token.delegate(worker);

        vm.roll(delegatedAt + 1);
        vm.assertEq(token.getPastVotes(worker, delegatedAt), bal);
        vm.assertEq(token.getPastVotes(worker, delegatedAt - 1), 0);

        // A transfer moves weight from the next checkpoint on; the past is unchanged.
        vm.prank(worker);
        token.transfer(stranger, 1000e18);
        vm.roll(delegatedAt + 2);
        vm.assertEq(token.getPastVotes(worker, delegatedAt), bal);
        vm.assertEq(token.getPastVotes(worker, delegatedAt + 1), bal - 1000e18);
        vm.assertEq(token.getVotes(worker), bal - 1000e18);
        // The recipient has not delegated: its balance carries no votes.
        vm.assertEq(token.getVotes(stranger), 0);
    }

    function test_votes_DelegateToAnotherAccount() public {
        uint256 bal1 = token.balanceOf(worker);
        uint256 bal2 = token.balanceOf(worker2);
        vm.prank(worker2);
        token.delegate(worker2);
        vm.prank(worker);
        token.delegate(worker2);

        vm.assertEq(token.getVotes(worker2), bal1 + bal2);
        vm.assertEq(token.getVotes(worker), 0);

        uint256 at = block.number;
        vm.roll(at + 1);
        vm.prank(worker);
        token.delegate(worker);
        vm.assertEq(token.getVotes(worker2), bal2);
        vm.assertEq(token.getVotes(worker), bal1);
        vm.roll(at + 2);
        vm.assertEq(token.getPastVotes(worker2, at), bal1 + bal2);
        vm.assertEq(token.getPastVotes(worker2, at + 1), bal2);
    }

    function test_votes_GetPastTotalSupply() public {
        uint256 at = block.number;
        vm.roll(at + 1);
        vm.assertEq(token.getPastTotalSupply(at), SUPPLY);
    }

    function test_votes_StakingMovesWeightIntoRegistry() public {
        uint256 bal = token.balanceOf(worker);
        vm.prank(worker);
        token.delegate(worker);
        registerAndStake(worker, STAKE);
        // Staked tokens sit in the registry, which delegates to nobody.
        vm.assertEq(token.getVotes(worker), bal - STAKE);
    }

    function test_votes_RevertWhen_GetPastVotesAtCurrentBlock() public {
        vm.prank(worker);
        token.delegate(worker);
        vm.expectRevert(abi.encodeWithSelector(Votes.ERC5805FutureLookup.selector, block.number, uint48(block.number)));
        token.getPastVotes(worker, block.number);
    }

    function test_votes_RevertWhen_GetPastTotalSupplyInFuture() public {
        vm.expectRevert(
            abi.encodeWithSelector(Votes.ERC5805FutureLookup.selector, block.number + 1, uint48(block.number))
        );
        token.getPastTotalSupply(block.number + 1);
    }

    function test_delegateBySig_DelegatesAndUsesPermitNonce() public {
        uint256 expiry = block.timestamp + 1 hours;
        bytes32 digest = _digest(keccak256(abi.encode(DELEGATION_TYPEHASH, worker2, uint256(0), expiry)));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(workerKey, digest);

        vm.prank(stranger);
        token.delegateBySig(worker2, 0, expiry, v, r, s);
        vm.assertEq(token.delegates(worker), worker2);
        vm.assertEq(token.getVotes(worker2), token.balanceOf(worker));
        vm.assertEq(token.nonces(worker), 1);

        // Replay: the signer recovers, but its nonce has moved on.
        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, worker, uint256(1)));
        token.delegateBySig(worker2, 0, expiry, v, r, s);
    }

    function test_delegateBySig_RevertWhen_PermitConsumedNonce() public {
        uint256 expiry = block.timestamp + 1 hours;
        bytes32 digest = _digest(keccak256(abi.encode(DELEGATION_TYPEHASH, worker2, uint256(0), expiry)));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(workerKey, digest);

        (uint8 pv, bytes32 pr, bytes32 ps) = _signPermit(workerKey, worker, stranger, 1e18, expiry);
        token.permit(worker, stranger, 1e18, expiry, pv, pr, ps);

        vm.expectRevert(abi.encodeWithSelector(Nonces.InvalidAccountNonce.selector, worker, uint256(1)));
        token.delegateBySig(worker2, 0, expiry, v, r, s);
    }

    function test_delegateBySig_RevertWhen_Expired() public {
        uint256 expiry = block.timestamp - 1;
        bytes32 digest = _digest(keccak256(abi.encode(DELEGATION_TYPEHASH, worker2, uint256(0), expiry)));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(workerKey, digest);
        vm.expectRevert(abi.encodeWithSelector(IVotes.VotesExpiredSignature.selector, expiry));
        token.delegateBySig(worker2, 0, expiry, v, r, s);
    }
}
