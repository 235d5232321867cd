import { makeStyles } from '@material-ui/core';

const useStyles = makeStyles({
  svg: { width: 28, height: 28, flexShrink: 0 },
});

/**
 * The portal's mark: a door (the portal) in Entra's blue, with a key-shaped
 * keyhole for the sign-in it is built around. Replace it with your own.
 */
export const LogoIcon = () => {
  const classes = useStyles();
  return (
    <svg
      className={classes.svg}
      viewBox="0 0 32 32"
      xmlns="http://www.w3.org/2000/svg"
      aria-hidden
    >
      <rect x="2" y="2" width="28" height="28" rx="7" fill="#0078d4" />
      <path d="M10 26V9a6 6 0 0 1 12 0v17z" fill="#ffffff" />
      <circle cx="16" cy="14" r="2.6" fill="#0078d4" />
      <rect x="15" y="15.5" width="2" height="6" rx="1" fill="#0078d4" />
    </svg>
  );
};
