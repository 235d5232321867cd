import { configApiRef, useApi } from '@backstage/frontend-plugin-api';
import { makeStyles } from '@material-ui/core';
import { LogoIcon } from './LogoIcon';

const useStyles = makeStyles({
  root: {
    display: 'flex',
    alignItems: 'center',
    gap: 10,
    color: '#ffffff',
  },
  title: {
    fontSize: 15,
    fontWeight: 600,
    lineHeight: 1.15,
    // Two short lines fit the open sidebar; one long line was cut off.
    whiteSpace: 'normal',
    maxWidth: 150,
  },
});

/** The mark and the portal's name (app.title), for the open sidebar. */
export const LogoFull = () => {
  const classes = useStyles();
  const title = useApi(configApiRef).getString('app.title');
  return (
    <span className={classes.root}>
      <LogoIcon />
      <span className={classes.title}>{title}</span>
    </span>
  );
};
