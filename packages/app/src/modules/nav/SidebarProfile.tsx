import { useEffect, useState } from 'react';
import { SidebarItem } from '@backstage/core-components';
import {
  identityApiRef,
  ProfileInfo,
  useApi,
} from '@backstage/frontend-plugin-api';
import Avatar from '@material-ui/core/Avatar';
import { makeStyles } from '@material-ui/core/styles';
import ExitToAppIcon from '@material-ui/icons/ExitToApp';

const useStyles = makeStyles({
  avatar: { width: 24, height: 24, fontSize: 12 },
});

function initials(name?: string) {
  return (name ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map(part => part[0]!.toUpperCase())
    .join('');
}

/**
 * Who is signed in (their Entra photo and name, linking to their settings)
 * and how to sign out, at the foot of the sidebar: on a shared machine the
 * first thing to check is whose portal this is.
 */
export function SidebarProfile() {
  const identityApi = useApi(identityApiRef);
  const classes = useStyles();
  const [profile, setProfile] = useState<ProfileInfo>();
  useEffect(() => {
    let live = true;
    identityApi.getProfileInfo().then(
      p => live && setProfile(p),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [identityApi]);
  const name = profile?.displayName ?? profile?.email ?? 'Signed in';
  const ProfileIcon = () => (
    <Avatar
      className={classes.avatar}
      src={profile?.picture}
      alt=""
      aria-hidden
    >
      {initials(profile?.displayName)}
    </Avatar>
  );
  return (
    <>
      <SidebarItem icon={ProfileIcon} text={name} to="/settings" />
      <SidebarItem
        icon={ExitToAppIcon}
        text="Sign out"
        onClick={() => {
          identityApi.signOut();
        }}
      />
    </>
  );
}
